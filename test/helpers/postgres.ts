/**
 * The machine's PostgreSQL for tests (never a mock): RESCREEN_TEST_DATABASE_URL → DATABASE_URL →
 * postgres://postgres@127.0.0.1:5432/test. Every test works in its own schema, dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPgPool, ident } from '../../src/store/postgres/connection.js';
import { migrate } from '../../src/store/postgres/migrate.js';

export function pgUrl(): string {
  return process.env.RESCREEN_TEST_DATABASE_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
}

/** A fresh schema name, unique to one test. */
export function freshSchema(label = 't'): string {
  return `rt_${label.replace(/[^a-z0-9_]/g, '_')}_${randomBytes(5).toString('hex')}`;
}

/** The store URL of a schema (what RESCREEN_STORE_URL is set to). */
export function storeUrl(schema: string): string {
  const u = new URL(pgUrl());
  u.searchParams.set('schema', schema);
  return u.toString();
}

/** A migrated fresh schema and a pool on it; `drop()` ends the pool and drops the schema. */
export async function freshPgSchema(label = 't'): Promise<{ schema: string; url: string; pool: pg.Pool; drop(): Promise<void> }> {
  const schema = freshSchema(label);
  const pool = createPgPool({ connectionString: pgUrl(), schema });
  await migrate(pool, schema);
  return {
    schema,
    url: storeUrl(schema),
    pool,
    async drop() {
      await pool.end();
      await dropSchema(schema);
    },
  };
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: pgUrl() });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${ident(schema)} CASCADE`);
  } finally {
    await client.end();
  }
}

/** Whether a schema exists (tests assert they leave none behind). */
export async function schemaExists(schema: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: pgUrl() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [schema]);
    return (rowCount ?? 0) > 0;
  } finally {
    await client.end();
  }
}
