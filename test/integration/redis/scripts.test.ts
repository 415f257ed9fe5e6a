/**
 * The script registry (src/redis/scripts.ts) on a real Redis: a call with named values, several
 * calls in one pipeline (in order; a failing one rejects), a client seen for the first time, and
 * BullMQ's own client (its `runCommand`).
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { quotaStateKey, scheduleStateKey } from '../../../src/redis/keys.js';
import { scripts } from '../../../src/redis/scripts.js';
import { dropPrefix, freshPrefix, redisClient } from '../../helpers/redis.js';

let redis: Redis;
let prefix: string;
beforeEach(() => {
  redis = redisClient();
  prefix = freshPrefix('scripts');
});
afterEach(async () => {
  await dropPrefix(redis, prefix);
  const [, left] = await redis.scan('0', 'MATCH', `${prefix}:*`, 'COUNT', 1000);
  await redis.quit();
  expect(left).toEqual([]);
});

describe('the script registry', () => {
  it('runs a script with named values, and its reply is what the script returns', async () => {
    const stateKey = scheduleStateKey(prefix, 'nightly');
    const fire = (batch: string, scheduledMs: number) => scripts.scheduleRecordFiring(redis, { stateKey, batch, scheduledMs, firedAt: '2020-01-01T00:00:00.000Z' });
    expect(await fire('b-2', 2_000)).toBe(1);
    expect(await fire('b-1', 1_000)).toBe(0);
    expect(await redis.hmget(stateKey, 'lastBatch', 'lastScheduledAt')).toEqual(['b-2', '2000']);
  });

  it('sends several calls in one pipeline, replies in call order', async () => {
    const stateKey = quotaStateKey(prefix, 'ooto');
    const replies = await scripts.quotaClock.many(redis, [
      { stateKey, clockMs: '5' },
      { stateKey, clockMs: '7' },
      { stateKey, clockMs: '' },
    ]);
    expect(replies.slice(0, 2)).toEqual(['5', '7']);
    const [seconds] = await redis.time();
    expect(Math.abs(Number(replies[2]) - Number(seconds) * 1000)).toBeLessThan(60_000);
    expect(await scripts.quotaClock.many(redis, [])).toEqual([]);
  });

  it('a failing call in a pipeline rejects with the script error', async () => {
    const stateKey = quotaStateKey(prefix, 'ooto');
    await expect(scripts.quotaLate.many(redis, [{ stateKey, lateMs: 5 }, { stateKey, lateMs: 'not a number' }])).rejects.toThrow(/arithmetic|nil/);
    // The first call of the pipeline ran: calls are not a transaction.
    expect(await redis.hget(stateKey, 'tat')).toBe('5');
  });

  it('a new client has the script on its first call', async () => {
    const other = redisClient();
    try {
      const stateKey = quotaStateKey(prefix, 'glair');
      expect(await scripts.quotaLate(other, { stateKey, lateMs: 3 })).toBe(1);
      expect(await scripts.quotaLate(redis, { stateKey, lateMs: 4 })).toBe(1);
      expect(await other.hget(stateKey, 'tat')).toBe('7');
    } finally {
      await other.quit();
    }
  });

  it("runs on BullMQ's own client (runCommand)", async () => {
    const queue = new Queue('scripts-test', { connection: redis, prefix });
    try {
      await queue.add('x', {}, { jobId: 'here' });
      const exists = await scripts.jobsExist(await queue.client, { metaKey: queue.toKey('meta'), jobKeys: [queue.toKey('here'), queue.toKey('gone')] });
      expect(exists).toEqual([1, 0]);
    } finally {
      await queue.close();
    }
  });
});
