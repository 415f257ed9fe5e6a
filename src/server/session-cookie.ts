/**
 * The queue UI's login cookie. A browser cannot send `Authorization: Bearer` when it navigates, so
 * `POST /queues/login` takes the token once and answers with a cookie the /queues routes accept
 * instead. The cookie holds `<expiry>.<HMAC-SHA256(per-process key, expiry + SHA-256(token))>`:
 * nothing from which the token can be learned, valid for {@link SESSION_TTL_S} seconds, and only
 * while the token is still configured (the HMAC is checked against each configured token, every
 * time, in constant time). The key is made when the process starts: a restart logs everyone out.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiToken } from '../config/server.js';
import type { Caller } from './auth.js';

export const SESSION_COOKIE = 'rescreen_queues';
/** A login lasts 8 hours (a working day). */
export const SESSION_TTL_S = 8 * 3600;

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

export class SessionCookies {
  readonly #key = randomBytes(32);
  readonly #tokens: readonly { readonly name: string; readonly role: Caller['role']; readonly digest: Buffer }[];
  readonly #now: () => number;

  constructor(tokens: readonly ApiToken[], now: () => number = Date.now) {
    this.#tokens = tokens.map((t) => ({ name: t.name, role: t.role, digest: sha256(t.token) }));
    this.#now = now;
  }

  #mac(expiry: string, tokenDigest: Buffer): Buffer {
    return createHmac('sha256', this.#key).update(`${expiry}.`).update(tokenDigest).digest();
  }

  /** The cookie's value for a token that has just been verified. */
  issue(token: string): string {
    const expiry = String(Math.floor(this.#now() / 1000) + SESSION_TTL_S);
    return `${expiry}.${this.#mac(expiry, sha256(token)).toString('base64url')}`;
  }

  /** The caller a cookie value stands for, or undefined (none, malformed, expired, or its token is gone). */
  verify(value: string | undefined): Caller | undefined {
    const m = value === undefined ? null : /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(value);
    const expiry = m?.[1] ?? '0';
    const given = m ? Buffer.from(m[2]!, 'base64url') : Buffer.alloc(32);
    const live = Number(expiry) > this.#now() / 1000 && Number(expiry) <= this.#now() / 1000 + SESSION_TTL_S;
    let found: Caller | undefined;
    for (const t of this.#tokens) {
      if (timingSafeEqual(given, this.#mac(expiry, t.digest)) && found === undefined && m !== null && live) found = { name: t.name, role: t.role };
    }
    return found;
  }

  /** The `Set-Cookie` header: HttpOnly, SameSite=Strict, only for /queues, Secure when served over https. */
  static header(value: string, options: { secure: boolean; maxAge?: number }): string {
    const maxAge = options.maxAge ?? SESSION_TTL_S;
    return `${SESSION_COOKIE}=${value}; Path=/queues; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${options.secure ? '; Secure' : ''}`;
  }

  /** The session cookie's value in a `Cookie` header, if there is one. */
  static read(cookieHeader: string | undefined): string | undefined {
    for (const part of (cookieHeader ?? '').split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim();
    }
    return undefined;
  }
}
