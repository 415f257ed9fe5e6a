/**
 * Bearer tokens: who is calling and what they may do. Comparison is constant-time over SHA-256
 * digests (equal lengths whatever was sent), and every configured token is compared, so the time
 * taken tells nothing about which token, or how much of one, matched.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiRole, ApiToken } from '../config/server.js';

export interface Caller {
  /** The token's name (never the token), or `anonymous` when no token is configured (loopback only). */
  readonly name: string;
  readonly role: ApiRole;
}

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

export class TokenVerifier {
  readonly #tokens: readonly { readonly name: string; readonly role: ApiRole; readonly digest: Buffer }[];

  constructor(tokens: readonly ApiToken[]) {
    this.#tokens = tokens.map((t) => ({ name: t.name, role: t.role, digest: digest(t.token) }));
  }

  /** True when no token is configured: everyone on the (loopback) socket is an operator. */
  get open(): boolean {
    return this.#tokens.length === 0;
  }

  /** The caller an `Authorization` header names, or undefined (none, malformed, or no match). */
  verify(header: string | undefined): Caller | undefined {
    const m = header === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    return this.verifyToken(m?.[1]);
  }

  /** The caller a bare token names (the queue UI's login form), or undefined. */
  verifyToken(token: string | undefined): Caller | undefined {
    if (this.open) return { name: 'anonymous', role: 'operator' };
    const given = digest(token ?? '');
    let found: Caller | undefined;
    for (const t of this.#tokens) {
      if (timingSafeEqual(given, t.digest) && found === undefined && token !== undefined) found = { name: t.name, role: t.role };
    }
    return found;
  }
}

/** Loopback host names and addresses the server may bind without a token. */
export function isLoopbackBind(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}
