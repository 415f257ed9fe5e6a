/**
 * PostgreSQL connection settings of the result store: `RESCREEN_STORE_URL=postgres://user@host:5432/db`
 * with an optional `?schema=name` (default {@link DEFAULT_PG_SCHEMA}) naming the schema that holds
 * the store's tables. The schema is the connection's `search_path`, so the SQL names no schema.
 */
import pg from 'pg';

/** Schema of the store's tables when the URL names none. */
export const DEFAULT_PG_SCHEMA = 'rescreen';

export interface PgTarget {
  /** The URL without `schema` (what `pg` is given). May carry a password: never log it raw. */
  readonly connectionString: string;
  readonly schema: string;
}

/** True for a `postgres://` or `postgresql://` URL. */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url.trim());
}

/** Splits `?schema=` off a store URL. Throws TypeError for a schema name that is not a plain identifier. */
export function pgTarget(url: string): PgTarget {
  const u = new URL(url.trim());
  const schema = u.searchParams.get('schema') ?? DEFAULT_PG_SCHEMA;
  u.searchParams.delete('schema');
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new TypeError(`schema must be a lower-case SQL identifier (a-z, 0-9, _), got ${JSON.stringify(schema)}`);
  }
  return { connectionString: u.toString(), schema };
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
