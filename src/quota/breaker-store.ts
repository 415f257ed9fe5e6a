/**
 * Where a vendor's breaker lives for the fleet: one Redis hash per vendor (`<prefix>:breaker:{ooto}`,
 * hash-tagged like the quota's key, so it works on Redis Cluster) and the lease of the one test call
 * (`<prefix>:breaker:{ooto}:test`, SET NX PX). Plain commands, no script: each step has one writer
 * (HSETNX decides who opens it, the lease who tests it), and the rest are counters.
 */
import type { Redis } from '../redis/client.js';
import type { Vendor } from '../vendors/types.js';
import { redisTime } from '../redis/time.js';
import { parseRecord, type BreakerRecord } from './breaker-state.js';

/** The breaker's shared state, as the Breaker uses it (Redis in production; a Map in unit tests). */
export interface BreakerStore {
  read(): Promise<BreakerRecord>;
  /** Counts one gateway failure (`cause`: its code); returns the failures in a row. */
  failed(cause: string): Promise<number>;
  /** Opens the breaker at `now` unless it is open already: true when this call opened it. */
  open(now: number): Promise<boolean>;
  /** A test failed: the next may be made at `at`; `retests` failed tests in all. */
  retest(at: number, retests: number, cause: string): Promise<void>;
  /** An answer while closed: the failures in a row start again. */
  answered(): Promise<void>;
  /** A test call was answered: closed. */
  close(): Promise<void>;
  /** Takes the one test call's lease for `leaseMs`: true when this process may test now. */
  takeTest(leaseMs: number): Promise<boolean>;
  releaseTest(): Promise<void>;
  /** The fleet's clock, ms. */
  now(): Promise<number>;
}

/** The Redis hash of one vendor's breaker. */
export function breakerKey(prefix: string, vendor: Vendor): string {
  return `${prefix}:breaker:{${vendor}}`;
}

export class RedisBreakerStore implements BreakerStore {
  readonly #key: string;
  readonly #testKey: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    vendor: Vendor,
  ) {
    this.#key = breakerKey(prefix, vendor);
    this.#testKey = `${this.#key}:test`;
  }

  async read(): Promise<BreakerRecord> {
    return parseRecord(await this.redis.hgetall(this.#key));
  }

  async failed(cause: string): Promise<number> {
    const replies = await this.redis.multi().hincrby(this.#key, 'failures', 1).hset(this.#key, 'cause', cause).exec();
    const [error, count] = replies?.[0] ?? [new Error('breaker: no reply from Redis'), 0];
    if (error) throw error;
    return Number(count);
  }

  async open(now: number): Promise<boolean> {
    return (await this.redis.hsetnx(this.#key, 'openedAt', now)) === 1;
  }

  async retest(at: number, retests: number, cause: string): Promise<void> {
    await this.redis.hset(this.#key, 'nextTestAt', at, 'retests', retests, 'cause', cause);
  }

  async answered(): Promise<void> {
    await this.redis.hdel(this.#key, 'failures');
  }

  async close(): Promise<void> {
    await this.redis.del(this.#key, this.#testKey);
  }

  async takeTest(leaseMs: number): Promise<boolean> {
    return (await this.redis.set(this.#testKey, '1', 'PX', Math.max(1, Math.round(leaseMs)), 'NX')) === 'OK';
  }

  async releaseTest(): Promise<void> {
    await this.redis.del(this.#testKey);
  }

  now(): Promise<number> {
    return redisTime(this.redis);
  }
}

/** One vendor's breaker record, for screens (`status`, `/readyz`, metrics). */
export async function readBreaker(redis: Redis, prefix: string, vendor: Vendor): Promise<BreakerRecord> {
  return parseRecord(await redis.hgetall(breakerKey(prefix, vendor)));
}
