/**
 * PostgreSQL connections of the result store, to a {@link PgTarget} (the store URL as
 * src/config/store-url.ts reads it). The schema is the connection's `search_path`, so the SQL names no schema.
 */
import pg from 'pg';
import { isStoreUrlProblem, parseStoreUrl, type PgTarget } from '../../config/store-url.js';

export type { PgTarget };

/** Reads a store URL given outside the configuration (`store copy --to`). Throws TypeError when it is refused. */
export function pgTarget(url: string): PgTarget {
  const read = parseStoreUrl(url);
  if (isStoreUrlProblem(read)) throw new TypeError(`the store URL ${read.message}`);
  return read;
}

/** A quoted identifier (schema names are checked by {@link pgTarget}; quoting is belt and braces). */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A pool whose connections use the store's schema. The caller ends it. */
export function createPgPool(target: PgTarget, options: { max?: number } = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: target.connectionString,
    max: options.max ?? 10,
    options: `-c search_path=${target.schema}`,
    // A pool whose server went away must not crash the process on an idle client's error.
    idleTimeoutMillis: 10_000,
  });
  pool.on('error', () => undefined);
  return pool;
}

/** Runs `work` in one transaction on one pooled client: COMMIT when it returns, ROLLBACK when it throws. */
export async function transaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
