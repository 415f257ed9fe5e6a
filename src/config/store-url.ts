/**
 * RESCREEN_STORE_URL (and `store copy --to`): `postgres://user@host:5432/db` with an optional
 * `?schema=name` (default {@link DEFAULT_PG_SCHEMA}) naming the schema that holds the store's tables.
 * The one place a store URL is read: config parses the variable with it, the store opens what it gives.
 */

/** Schema of the store's tables when the URL names none. */
export const DEFAULT_PG_SCHEMA = 'rescreen';

/** A PostgreSQL store URL, read. */
export interface PgTarget {
  /** The URL without `schema` (what `pg` is given). May carry a password: never log it raw. */
  readonly connectionString: string;
  /** A plain lower-case SQL identifier. */
  readonly schema: string;
}

/** Why a store URL was refused: not a postgres URL, or a schema that is not a plain identifier. */
export interface StoreUrlProblem {
  readonly problem: 'not-postgres' | 'schema';
  /** Names neither the URL nor its password: `must be a postgres:// URL`, `?schema= must be …`. */
  readonly message: string;
}

/** Reads a store URL (trimmed); never echoes it, since it may carry a password. */
export function parseStoreUrl(url: string): PgTarget | StoreUrlProblem {
  const text = url.trim();
  // One check after the other: the schema is only looked at in a URL that parses.
  if (!/^postgres(ql)?:\/\/\S+$/i.test(text) || !URL.canParse(text)) return { problem: 'not-postgres', message: 'must be a postgres:// URL' };
  const u = new URL(text);
  const schema = u.searchParams.get('schema') ?? DEFAULT_PG_SCHEMA;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) return { problem: 'schema', message: '?schema= must be a lower-case SQL identifier (a-z, 0-9, _)' };
  u.searchParams.delete('schema');
  return { connectionString: u.toString(), schema };
}

/** True when {@link parseStoreUrl} refused the URL. */
export function isStoreUrlProblem(read: PgTarget | StoreUrlProblem): read is StoreUrlProblem {
  return 'problem' in read;
}
