/** The ring store on both backends: the contract (./ring-conformance.ts). */
import type { Redis } from 'ioredis';
import { expect } from 'vitest';
import { PgRingStore } from '../../../src/store/postgres/pg-ring-store.js';
import { RedisRingStore } from '../../../src/store/redis-ring-store.js';
import { freshPgSchema, schemaExists } from '../../helpers/postgres.js';
import { dropPrefix, freshPrefix, redisClient } from '../../helpers/redis.js';
import { describeRingStore } from './ring-conformance.js';

describeRingStore('RedisRingStore', () => {
  const prefix = freshPrefix('rings');
  const redis = redisClient();
  const clients: Redis[] = [];
  return {
    open() {
      const client = redisClient();
      clients.push(client);
      return new RedisRingStore(client, prefix);
    },
    async close() {
      await Promise.all(clients.map((c) => c.quit()));
      await dropPrefix(redis, prefix);
      await redis.quit();
    },
  };
});

describeRingStore('PgRingStore', async () => {
  const db = await freshPgSchema('rings');
  return {
    open: () => new PgRingStore(db.pool),
    async close() {
      await db.drop();
      expect(await schemaExists(db.schema)).toBe(false);
    },
  };
});
