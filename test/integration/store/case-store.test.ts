/**
 * The case store on both backends: the contract (./case-conformance.ts), then what is particular to
 * each (PostgreSQL refuses any change of a decision row in the database itself; Redis keeps every
 * key under `${prefix}:cases:`).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PgCaseStore } from '../../../src/store/postgres/pg-case-store.js';
import { RedisCaseStore } from '../../../src/store/redis-case-store.js';
import { freshPgSchema, schemaExists } from '../../helpers/postgres.js';
import { dropPrefix, freshPrefix, redisClient } from '../../helpers/redis.js';
import type { Redis } from 'ioredis';
import { redisTime } from '../../../src/redis/time.js';
import { describeCaseStore, opening } from './case-conformance.js';

function redisBackend() {
  const prefix = freshPrefix('cases');
  const redis = redisClient();
  const clients: Redis[] = [];
  return {
    prefix,
    redis,
    now: () => redisTime(redis),
    open() {
      const client = redisClient();
      clients.push(client);
      return new RedisCaseStore(client, prefix);
    },
    async close() {
      await Promise.all(clients.map((c) => c.quit()));
      await dropPrefix(redis, prefix);
      await redis.quit();
    },
  };
}

describeCaseStore('RedisCaseStore', redisBackend);

describeCaseStore('PgCaseStore', async () => {
  const db = await freshPgSchema('cases');
  return {
    open: () => new PgCaseStore(db.pool),
    now: async () => Number((await db.pool.query<{ ms: string }>('SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS ms')).rows[0]!.ms),
    async close() {
      await db.drop();
      expect(await schemaExists(db.schema)).toBe(false);
    },
  };
});

describe('decisions are append-only', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  it('PostgreSQL refuses UPDATE, DELETE and TRUNCATE of a decision row; only an erasure removes one', async () => {
    const db = await freshPgSchema('append');
    cleanups.push(() => db.drop());
    const store = new PgCaseStore(db.pool);
    const [c] = await store.openCases([opening('b', 's1')]);
    await store.decide(c!.id, { decision: 'escalate', note: 'why', reviewer: 'ann' });
    await expect(db.pool.query(`UPDATE case_decisions SET decision = 'cleared'`)).rejects.toThrow(/append-only/);
    await expect(db.pool.query('DELETE FROM case_decisions')).rejects.toThrow(/append-only/);
    await expect(db.pool.query('TRUNCATE case_decisions')).rejects.toThrow(/append-only/);
    expect((await store.decisionsOf(c!.id)).map((d) => d.decision)).toEqual(['escalate']);
    expect(await store.eraseSubject('s1', { at: new Date().toISOString(), records: 0, attempts: 0 })).toMatchObject({ cases: 1, decisions: 1 });
    // The erasure's permission ended with its transaction.
    const [c2] = await store.openCases([opening('b', 's2')]);
    await store.decide(c2!.id, { decision: 'cleared', note: '', reviewer: 'ann' });
    await expect(db.pool.query('DELETE FROM case_decisions')).rejects.toThrow(/append-only/);
  });

  it('Redis keeps every case key under `${prefix}:cases:` and decisions in a list', async () => {
    const backend = redisBackend();
    cleanups.push(() => backend.close());
    const store = backend.open();
    const [c] = await store.openCases([opening('b', 's1')]);
    await store.decide(c!.id, { decision: 'cleared', note: '', reviewer: 'ann' });
    const keys = await backend.redis.keys(`${backend.prefix}:*`);
    for (const key of keys) expect(key.startsWith(`${backend.prefix}:cases:`)).toBe(true);
    expect(await backend.redis.type(`${backend.prefix}:cases:decisions:${c!.id}`)).toBe('list');
  });
});
