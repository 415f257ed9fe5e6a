/**
 * Which hosts a media download may reach. A manifest is often assembled from other systems, and a
 * batch worker inside a VPC must not be a proxy into it: loopback, private, link-local, metadata,
 * carrier-grade NAT and other special-purpose addresses are refused — checked on the address a name
 * resolves to (at connect time, so DNS rebinding cannot slip past) and on every redirect — unless the
 * operator allows them (RESCREEN_MEDIA_ALLOW_HOSTS, RESCREEN_MEDIA_ALLOW_PRIVATE).
 */
import { lookup as dnsLookup, promises as dns, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import type { interceptors } from 'undici';
import { embeddedIpv4, isLoopbackHost, type MediaHostPolicy } from '../config/hosts.js';

export { isLoopbackHost, type MediaHostPolicy };

type DNSInterceptorOpts = NonNullable<Parameters<typeof interceptors.dns>[0]>;


/** The default policy: public addresses only. */
export const PUBLIC_ONLY: MediaHostPolicy = Object.freeze({ allowHosts: Object.freeze([]), allowPrivate: false });

/** Special-purpose ranges (RFC 6890 and friends): nothing a public media URL has any business with. */
const BLOCKED = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], // "this network", 0.0.0.0
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata (169.254.169.254)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  BLOCKED.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7], // unique local, fd00::/8 included (AWS IMDS: fd00:ec2::254)
  ['fe80::', 10], // link-local
  ['fec0::', 10],
  ['ff00::', 8], // multicast
] as const) {
  BLOCKED.addSubnet(net, bits, 'ipv6');
}


/** True for an address no public media URL should reach (see the ranges above). Not an IP: false. */
export function isBlockedAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 4) return BLOCKED.check(bare, 'ipv4');
  if (family === 6) {
    const v4 = embeddedIpv4(bare);
    if (v4 !== undefined) return BLOCKED.check(v4, 'ipv4');
    return BLOCKED.check(bare, 'ipv6');
  }
  return false;
}


/** Whether `host` (a URL's hostname) is allowed by name, whatever it resolves to. */
export function hostAllowed(policy: MediaHostPolicy, host: string): boolean {
  if (policy.allowPrivate) return true;
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return policy.allowHosts.includes(bare) || policy.allowHosts.includes(host.toLowerCase());
}

/** Raised by the connect-time lookup for a refused address; the loader maps it to MEDIA_HOST_REFUSED. */
export class HostRefusedError extends Error {
  override name = 'HostRefusedError';
  readonly code = 'ERR_RESCREEN_HOST_REFUSED';
  constructor(
    readonly host: string,
    readonly address: string,
  ) {
    super(`${host} resolves to ${address}, a private, loopback, link-local or otherwise special-purpose address`);
  }
}

/**
 * The check before a request: an IP-literal host is refused at once (no lookup happens for it).
 * @returns the error to throw, or `undefined` when the host may be tried (names are checked on connect).
 */
export function refuseLiteral(policy: MediaHostPolicy, host: string): HostRefusedError | undefined {
  if (hostAllowed(policy, host)) return undefined;
  const bare = host.replace(/^\[|\]$/g, '');
  return isIP(bare) !== 0 && isBlockedAddress(bare) ? new HostRefusedError(host, bare) : undefined;
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for `net.connect` / undici's `connect` option: resolves as usual, then keeps only
 * allowed addresses; none left → {@link HostRefusedError}. The connection uses exactly the addresses
 * checked here, so a name cannot resolve to a public address for the check and a private one after.
 */
export function guardedLookup(policy: MediaHostPolicy): (hostname: string, options: LookupOptions, callback: LookupCallback) => void {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) {
        callback(error, []);
        return;
      }
      const allowed = hostAllowed(policy, hostname) ? addresses : addresses.filter((a) => !isBlockedAddress(a.address));
      if (allowed.length === 0) {
        callback(new HostRefusedError(hostname, addresses[0]?.address ?? '?'), []);
        return;
      }
      if (options.all === true) callback(null, allowed);
      else callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}

/**
 * The dry run's look at a host, without downloading anything: an IP literal as {@link refuseLiteral},
 * a name by the addresses it resolves to now (refused when none is allowed). A name that does not
 * resolve is not refused here (the download would fail, or succeed later): `undefined`.
 */
export async function refuseHost(policy: MediaHostPolicy, host: string): Promise<HostRefusedError | undefined> {
  if (hostAllowed(policy, host)) return undefined;
  const bare = host.replace(/^\[|\]$/g, '');
  if (isIP(bare) !== 0) return refuseLiteral(policy, host);
  let addresses: LookupAddress[];
  try {
    addresses = await dns.lookup(bare, { all: true });
  } catch {
    return undefined;
  }
  return addresses.length > 0 && addresses.every((a) => isBlockedAddress(a.address)) ? new HostRefusedError(host, addresses[0]!.address) : undefined;
}

/**
 * A `lookup` for undici's DNS interceptor (`interceptors.dns`): the addresses a name resolves to,
 * only the allowed ones; none left → {@link HostRefusedError}. Composed onto any dispatcher a media
 * loader is given, it makes the request go to an address checked here, whatever that dispatcher's
 * own `connect` does.
 */
export function guardedInterceptorLookup(policy: MediaHostPolicy): NonNullable<DNSInterceptorOpts['lookup']> {
  return (origin, _options, callback) => {
    const host = origin.hostname;
    dnsLookup(host.replace(/^\[|\]$/g, ''), { all: true, order: 'ipv4first' }, (error, addresses) => {
      if (error) {
        callback(error, []);
        return;
      }
      const allowed = hostAllowed(policy, host) ? addresses : addresses.filter((a) => !isBlockedAddress(a.address));
      if (allowed.length === 0) {
        callback(new HostRefusedError(host, addresses[0]?.address ?? '?'), []);
        return;
      }
      // A short TTL: the interceptor caches per host name; a changed record is seen within seconds.
      callback(null, allowed.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4, ttl: 10_000 })));
    });
  };
}
