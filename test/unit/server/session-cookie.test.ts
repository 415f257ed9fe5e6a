/** The queue UI's login cookie: who it stands for, for how long, and that it never gives the token back. */
import { describe, expect, it } from 'vitest';
import type { ApiToken } from '../../../src/config/server.js';
import { SESSION_TTL_S, SessionCookies } from '../../../src/server/session-cookie.js';

const OLGA: ApiToken = { name: 'olga', role: 'operator', token: 'op-token-0123456789abcdef' };
const DASH: ApiToken = { name: 'dash', role: 'read', token: 'read-token-fedcba9876543210' };

describe('SessionCookies', () => {
  it('stands for the token it was issued for, until it expires', () => {
    let now = 1_800_000_000_000;
    const sessions = new SessionCookies([OLGA, DASH], () => now);
    const value = sessions.issue(OLGA.token);
    expect(value).toMatch(/^\d+\.[\w-]{43}$/);
    expect(value).not.toContain(OLGA.token);
    expect(sessions.verify(value)).toEqual({ name: 'olga', role: 'operator' });
    expect(sessions.verify(sessions.issue(DASH.token))).toEqual({ name: 'dash', role: 'read' });
    now += (SESSION_TTL_S - 1) * 1000;
    expect(sessions.verify(value)).toEqual({ name: 'olga', role: 'operator' });
    now += 2000;
    expect(sessions.verify(value)).toBeUndefined();
  });

  it('refuses an edited, foreign or empty cookie, and one whose token is no longer configured', () => {
    const now = () => 1_800_000_000_000;
    const sessions = new SessionCookies([OLGA], now);
    const value = sessions.issue(OLGA.token);
    const [expiry, mac] = value.split('.') as [string, string];
    // A later expiry, past the longest a cookie may live, is refused even with a matching MAC shape.
    expect(sessions.verify(`${Number(expiry) + 1}.${mac}`)).toBeUndefined();
    expect(sessions.verify(`${Number(expiry) + SESSION_TTL_S}.${mac}`)).toBeUndefined();
    expect(sessions.verify(`${expiry}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`)).toBeUndefined();
    for (const bad of [undefined, '', 'x', `${expiry}.`, `.${mac}`, `${expiry}.${mac}.x`, OLGA.token]) expect(sessions.verify(bad)).toBeUndefined();
    // Another process (another key), or the same token removed from the configuration.
    expect(new SessionCookies([OLGA], now).verify(value)).toBeUndefined();
    expect(new SessionCookies([DASH], now).verify(value)).toBeUndefined();
  });

  it('writes and reads the cookie header', () => {
    expect(SessionCookies.header('v', { secure: false })).toBe(`rescreen_queues=v; Path=/queues; Max-Age=${SESSION_TTL_S}; HttpOnly; SameSite=Strict`);
    expect(SessionCookies.header('', { secure: true, maxAge: 0 })).toBe('rescreen_queues=; Path=/queues; Max-Age=0; HttpOnly; SameSite=Strict; Secure');
    expect(SessionCookies.read('a=1; rescreen_queues=123.abc ; b=2')).toBe('123.abc');
    expect(SessionCookies.read('rescreen_queuesx=1')).toBeUndefined();
    expect(SessionCookies.read(undefined)).toBeUndefined();
  });
});
