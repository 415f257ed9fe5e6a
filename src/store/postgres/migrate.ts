/**
 * Schema migrations of the PostgreSQL result store: plain versioned SQL files
 * (`migrations/postgres/NNN_name.sql` at the package root), each applied once, in order, in its own
 * transaction, under a session advisory lock so that workers starting together never race.
 * `rescreen db migrate` runs it, and so does every worker start.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { ident } from './connection.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** The package's `migrations/postgres` folder, found upwards from this module (src/ or dist/src/). */
export function migrationsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, 'migrations', 'postgres');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('migrations/postgres not found next to the rescreen package');
}

/** The migration files, by version. */
export async function loadMigrations(dir = migrationsDir()): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d+_[\w-]+\.sql$/.test(f)).sort();
  return Promise.all(
    files.map(async (file) => ({
      version: Number.parseInt(file, 10),
      name: file.replace(/\.sql$/, ''),
      sql: await readFile(join(dir, file), 'utf8'),
    })),
  );
}

/** What {@link migrate} did. */
export interface MigrateResult {
  readonly schema: string;
  /** Names of the migrations this call applied (empty when the schema was up to date). */
  readonly applied: readonly string[];
  /** Highest version now in place. */
  readonly version: number;
}

/** Applies every migration not yet in `schema` (creating it), under an advisory lock. */
export async function migrate(pool: pg.Pool, schema: string, migrations?: readonly Migration[]): Promise<MigrateResult> {
  const all = migrations ?? (await loadMigrations());
  const client = await pool.connect();
  const lockKey = `rescreen-migrate:${schema}`;
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [lockKey]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${ident(schema)}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${ident(schema)}.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const done = await client.query<{ version: number }>(`SELECT version FROM ${ident(schema)}.schema_migrations`);
    const have = new Set(done.rows.map((r) => r.version));
    const applied: string[] = [];
    for (const m of all) {
      if (have.has(m.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(`SET LOCAL search_path TO ${ident(schema)}`);
        await client.query(m.sql);
        await client.query(`INSERT INTO ${ident(schema)}.schema_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
      applied.push(m.name);
      have.add(m.version);
    }
    return { schema, applied, version: Math.max(0, ...have) };
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]).catch(() => undefined);
    client.release();
  }
}

/** Drops the store's schema and everything in it (the testing kit's own store, at its cleanup). */
export async function dropSchema(pool: pg.Pool, schema: string): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS ${ident(schema)} CASCADE`);
}
