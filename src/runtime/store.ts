/**
 * Which result store a runtime uses: PostgreSQL when RESCREEN_STORE_URL is set (migrated on open,
 * under an advisory lock), else the Redis store on the runtime's Redis. The call ledger follows the
 * store, so with PostgreSQL a finished line leaves nothing in Redis.
 */
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { redactUrl, type Config } from '../config/config.js';
import { ErrorCodes, RescreenError } from '../errors/errors.js';
import { RedisCallLedger, type CallLedger } from '../queues/call-budget.js';
import { PgCallLedger } from '../queues/pg-call-ledger.js';
import { createPgPool, pgTarget } from '../store/postgres/connection.js';
import { migrate, type MigrateResult } from '../store/postgres/migrate.js';
import { PgResultStore } from '../store/postgres/pg-result-store.js';
import { RedisResultStore } from '../store/redis-result-store.js';
import type { ResultStore, ResultStoreOptions } from '../store/types.js';

export interface OpenedStore {
  readonly kind: 'redis' | 'postgres';
  readonly store: ResultStore;
  readonly ledger: CallLedger;
  /** The PostgreSQL pool (postgres only). */
  readonly pool: pg.Pool | undefined;
  close(): Promise<void>;
}

/** The PostgreSQL store (RESCREEN_STORE_URL) did not answer, or its schema could not be migrated (STORE_UNAVAILABLE): infrastructure, exit 2. */
export class StoreUnavailableError extends RescreenError {
  override name = 'StoreUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.STORE_UNAVAILABLE, message, options);
  }
}

/** A PostgreSQL store URL that did not answer, or whose schema could not be migrated. */
export function storeUnavailable(url: string, error: unknown): StoreUnavailableError {
  const reason = error instanceof Error ? error.message : String(error);
  return new StoreUnavailableError(
    `the result store at ${redactUrl(url)} cannot be used: ${reason} (check RESCREEN_STORE_URL, or unset it to keep results in Redis)`,
    { cause: error },
  );
}

/** Opens a PostgreSQL store URL and applies its migrations. */
export async function openPgStore(url: string, options: ResultStoreOptions = {}): Promise<{ store: PgResultStore; pool: pg.Pool; migrated: MigrateResult }> {
  let target;
  try {
    target = pgTarget(url);
  } catch (error) {
    throw storeUnavailable(url, error);
  }
  const pool = createPgPool(target);
  try {
    const migrated = await migrate(pool, target.schema);
    return { store: new PgResultStore(pool, options), pool, migrated };
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw storeUnavailable(url, error);
  }
}

export async function openStore(config: Config, redis: Redis, options: ResultStoreOptions): Promise<OpenedStore> {
  if (config.storeUrl === undefined) {
    return {
      kind: 'redis',
      store: new RedisResultStore(redis, config.prefix, options),
      ledger: new RedisCallLedger(redis, config.prefix, config.pricing.perCall),
      pool: undefined,
      close: () => Promise.resolve(),
    };
  }
  const { store, pool } = await openPgStore(config.storeUrl, options);
  return { kind: 'postgres', store, ledger: new PgCallLedger(pool, { redis, prefix: config.prefix, prices: config.pricing.perCall }), pool, close: () => pool.end() };
}
