/**
 * The PostgreSQL result store: the store contract (./conformance.ts), then what is particular to
 * PostgreSQL (migrations under an advisory lock, a schema per test and nothing left behind).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createPgPool } from '../../../src/store/postgres/connection.js';
import { loadMigrations, migrate } from '../../../src/store/postgres/migrate.js';
import { PgResultStore } from '../../../src/store/postgres/pg-result-store.js';
import type { ResultStoreOptions } from '../../../src/store/types.js';
import { dropSchema, freshPgSchema, freshSchema, pgUrl, schemaExists } from '../../helpers/postgres.js';
import { describeResultStore, record } from './conformance.js';

describeResultStore('PgResultStore', async () => {
  const db = await freshPgSchema('store');
  return {
    open: (options: ResultStoreOptions = {}) => new PgResultStore(db.pool, options),
    async close() {
      await db.drop();
      expect(await schemaExists(db.schema)).toBe(false);
    },
  };
});

describe('PgResultStore migrations', () => {
  const schemas: string[] = [];
  afterEach(async () => {
    await Promise.all(schemas.splice(0).map(dropSchema));
  });

  it('five workers migrating at once apply each migration exactly once', async () => {
    const schema = freshSchema('mig');
    schemas.push(schema);
    const pools = Array.from({ length: 5 }, () => createPgPool({ connectionString: pgUrl(), schema }, { max: 1 }));
    try {
      const results = await Promise.all(pools.map((p) => migrate(p, schema)));
      const all = await loadMigrations();
      expect(results.flatMap((r) => r.applied).sort()).toEqual(all.map((m) => m.name).sort());
      expect(new Set(results.map((r) => r.version))).toEqual(new Set([Math.max(...all.map((m) => m.version))]));
      // Up to date: a second run applies nothing and the store works.
      expect((await migrate(pools[0]!, schema)).applied).toEqual([]);
      const store = new PgResultStore(pools[0]!);
      await store.put(record({ batch: 'm', line: 1 }));
      expect((await store.get('m', 1))?.line).toBe(1);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it('002 counts the failed records already stored, and keeps the previous release\'s put counting them', async () => {
    const schema = freshSchema('m002');
    schemas.push(schema);
    const pool = createPgPool({ connectionString: pgUrl(), schema });
    try {
      const all = await loadMigrations();
      await migrate(pool, schema, all.filter((m) => m.version === 1));
      // Written by the previous release: its put_record (10 arguments), no stoppedBy anywhere.
      const oldPut = (line: number, status: string, code: string | number | null) =>
        pool.query('SELECT * FROM put_record($1, $2, $3, $4, NULL, NULL, NULL, 0, 0, $5)', [
          'old',
          line,
          JSON.stringify(record({ batch: 'old', line, status: status as 'failed', verdict: null, error: code === null ? null : { code, message: 'm' } })),
          status,
          new Date().toISOString(),
        ]);
      await oldPut(1, 'failed', 'VENDOR_TIMEOUT');
      await oldPut(2, 'failed', 'VENDOR_TIMEOUT');
      await oldPut(3, 'rejected', 5);
      await oldPut(4, 'failed', null);
      // 002 and every later migration (other issues add theirs), 001 not again.
      const applied = (await migrate(pool, schema)).applied;
      expect(applied[0]).toBe('002_failure_counts');
      expect(applied).not.toContain('001_result_store');
      const store = new PgResultStore(pool);
      expect((await store.summary('old'))?.failures).toEqual([{ code: 'VENDOR_TIMEOUT', stoppedBy: null, count: 2 }]);
      // A worker of the previous release, still running during the upgrade: its puts move the counts too.
      await oldPut(1, 'completed', null);
      await oldPut(5, 'failed', 'HTTP_500');
      expect((await store.summary('old'))?.failures).toEqual([
        { code: 'HTTP_500', stoppedBy: null, count: 1 },
        { code: 'VENDOR_TIMEOUT', stoppedBy: null, count: 1 },
      ]);
      // And a put of this release replaces theirs.
      await store.put(record({ batch: 'old', line: 2, status: 'failed', verdict: null, error: { code: 'VENDOR_TIMEOUT', message: 'm' }, stoppedBy: 'call-budget' }));
      expect((await store.summary('old'))?.failures).toEqual([
        { code: 'HTTP_500', stoppedBy: null, count: 1 },
        { code: 'VENDOR_TIMEOUT', stoppedBy: 'call-budget', count: 1 },
      ]);
    } finally {
      await pool.end();
    }
  });

  it('a failing migration is rolled back whole and applies nothing', async () => {
    const schema = freshSchema('bad');
    schemas.push(schema);
    const pool = createPgPool({ connectionString: pgUrl(), schema });
    try {
      const bad = [{ version: 1, name: '001_bad', sql: 'CREATE TABLE a (x int); SELECT no_such_function();' }];
      await expect(migrate(pool, schema, bad)).rejects.toThrow(/no_such_function/);
      const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'a'`, [schema]);
      expect(rows[0]?.n).toBe('0');
    } finally {
      await pool.end();
    }
  });
});
