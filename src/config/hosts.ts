/**
 * Host-name facts the configuration needs (is a base URL the simulator's loopback home?) and the
 * media host policy's shape: pure, so config stays the bottom layer. src/media/host-policy.ts
 * enforces the policy.
 */
import { isIP } from 'node:net';

/** What a media download may reach. */
export interface MediaHostPolicy {
  /** Host names (or IP literals) always allowed, lower-case, e.g. `minio.internal`, `127.0.0.1`. */
  readonly allowHosts: readonly string[];
  /** Allow every address, private ones included (RESCREEN_MEDIA_ALLOW_PRIVATE=true). */
  readonly allowPrivate: boolean;
}

/** The IPv4 address inside an IPv4-mapped / -compatible / NAT64 IPv6 address, if it is one. */
export function embeddedIpv4(ipv6: string): string | undefined {
  const lower = ipv6.toLowerCase();
  const dotted = /^(?:::ffff:|::ffff:0:|::|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex) {
    const hi = parseInt(hex[1]!, 16);
    const lo = parseInt(hex[2]!, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return undefined;
}

/** True for a loopback host name or address (`localhost`, 127/8, ::1): the simulator's home. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  const v4 = isIP(bare) === 6 ? (embeddedIpv4(bare) ?? bare) : bare;
  return v4 === '::1' || (isIP(v4) === 4 && v4.startsWith('127.'));
}
