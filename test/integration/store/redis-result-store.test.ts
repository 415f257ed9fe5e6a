/**
 * The Redis result store: the store contract (./conformance.ts), then what is particular to Redis
 * (key layout, one index entry per transaction id). The one place store tests build a RedisResultStore.
 */
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RedisResultStore } from '../../../src/store/redis-result-store.js';
import type { ResultStoreOptions } from '../../../src/store/types.js';
import { dropPrefix, freshPrefix, redisClient } from '../../helpers/redis.js';
import { describeResultStore, record, type StoreBackend } from './conformance.js';

interface RedisBackend extends StoreBackend {
  readonly prefix: string;
  /** A client for looking at the keys. */
  readonly redis: Redis;
}

/** A fresh prefix; every handle has its own connection, as separate workers do. Leaves no key behind. */
function redisBackend(): RedisBackend {
  const prefix = freshPrefix('store');
  const redis = redisClient();
  const clients: Redis[] = [];
  return {
    prefix,
    redis,
    open(options: ResultStoreOptions = {}) {
      const client = redisClient();
      clients.push(client);
      return new RedisResultStore(client, prefix, options);
    },
    async close() {
      await Promise.all(clients.map((c) => c.quit()));
      await dropPrefix(redis, prefix);
      const [, left] = await redis.scan('0', 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      await redis.quit();
      expect(left).toEqual([]);
    },
  };
}

describeResultStore('RedisResultStore', redisBackend);

describe('RedisResultStore on Redis', () => {
  let backend: RedisBackend;

  beforeEach(() => {
    backend = redisBackend();
  });

  afterEach(async () => {
    await backend.close();
  });

  it('keeps every key under `${prefix}:store:`', async () => {
    const store = backend.open();
    await store.beginBatch('b1', 'm.jsonl');
    await store.put(record({ batch: 'b1', line: 3 }));
    await store.finishBatch('b1', { total: 1, maxLine: 3 });
    const keys = await backend.redis.keys(`${backend.prefix}:*`);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key.startsWith(`${backend.prefix}:store:`)).toBe(true);
  });

  it('concurrent puts of one line leave one entry in the transaction-id hash', async () => {
    const stores = Array.from({ length: 8 }, () => backend.open());
    await Promise.all(
      Array.from({ length: 120 }, (_, i) => stores[i % 8]!.put(record({ batch: 'race', line: 5, transactionId: `tx-${i}` }))),
    );
    expect(await backend.redis.hlen(`${backend.prefix}:store:tx`)).toBe(1);
  });
});
