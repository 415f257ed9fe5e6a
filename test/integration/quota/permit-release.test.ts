/**
 * A permit taken for a call its batch then refused goes back (src/redis/lua/quota-release-1.lua): a
 * counted window's call is returned; a spacing slot only while it is the last one booked, since a
 * slot handed out between two booked ones would put two calls closer than the quota allows. Real
 * Redis, a clock relative to now.
 */
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { QuotaWaitError } from '../../../src/errors/errors.js';
import { Admission } from '../../../src/quota/admission.js';
import { quotaStateKey } from '../../../src/redis/keys.js';
import { isQuotaError, parseQuota } from '../../../src/quota/spec.js';
import { dropPrefix, freshPrefix, redisClient } from '../../helpers/redis.js';

const silent = pino({ level: 'silent' });
const clients: Redis[] = [];
const prefixes: string[] = [];

afterEach(async () => {
  const c = redisClient();
  for (const p of prefixes.splice(0)) await dropPrefix(c, p);
  await c.quit();
  await Promise.all(clients.splice(0).map((r) => r.quit()));
});

/** 10:00 UTC of today: a counted day has hours left, whatever the day the test runs. */
const todayAtTen = (): number => Math.floor(Date.now() / 86_400_000) * 86_400_000 + 10 * 3_600_000;

function admission(text: string, now: () => number): { a: Admission; redis: Redis; key: string } {
  const q = parseQuota(text);
  if (isQuotaError(q)) throw new Error(q.error);
  const redis = redisClient();
  clients.push(redis);
  const prefix = freshPrefix('permit');
  prefixes.push(prefix);
  const a = new Admission({ redis, prefix, vendor: 'ooto', quota: () => q, log: silent, now, inProcessWaitMs: 10, backoff: { baseMs: 1000, maxMs: 60_000 } });
  return { a, redis, key: quotaStateKey(prefix, 'ooto') };
}

describe('giving a permit back', () => {
  it('returns a daily window call: the refused call does not spend the budget', async () => {
    let clock = todayAtTen();
    const { a } = admission('1000/s,3/d', () => clock);
    const permits = [];
    for (let i = 0; i < 3; i++) {
      permits.push(await a.admit());
      clock += 5;
    }
    await expect(a.admit()).rejects.toBeInstanceOf(QuotaWaitError);
    await permits[1]!.release();
    clock += 5;
    await a.admit();
    await expect(a.admit()).rejects.toBeInstanceOf(QuotaWaitError);
  });

  it('returns a rolling hour call', async () => {
    let clock = todayAtTen();
    const { a } = admission('1000/s,2/h', () => clock);
    const first = await a.admit();
    clock += 60_000;
    await a.admit();
    clock += 60_000;
    await expect(a.admit()).rejects.toBeInstanceOf(QuotaWaitError);
    await first!.release();
    await a.admit();
    await expect(a.admit()).rejects.toBeInstanceOf(QuotaWaitError);
  });

  it('gives a spacing slot back only while it is the last one booked', async () => {
    let clock = todayAtTen();
    const { a, redis, key } = admission('10/s', () => clock);
    const tat = async () => Number(await redis.hget(key, 'tat'));
    // Each permit asked for at its slot (the clock moved there): booked back to back, none slept for.
    const permits = [];
    for (let i = 0; i < 3; i++) {
      permits.push(await a.admit());
      clock = await tat();
    }
    const [p1, p2, p3] = permits;
    const booked = await tat();
    // Not the last: giving it back would squeeze a call between two booked ones.
    await p1!.release();
    expect(await tat()).toBe(booked);
    // The last: the schedule steps back by one slot, and again for the one before it.
    await p3!.release();
    const step = booked - (await tat());
    expect(step).toBeGreaterThan(90);
    expect(step).toBeLessThan(130);
    await p2!.release();
    expect(await tat()).toBeCloseTo(booked - 2 * step, 0);
  });
});
