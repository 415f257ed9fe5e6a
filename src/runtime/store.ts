/**
 * Which result store a runtime uses: PostgreSQL when RESCREEN_STORE_URL is set (migrated on open,
 * under an advisory lock), else the Redis store on the runtime's Redis. The call ledger follows the
 * store, so with PostgreSQL a finished line leaves nothing in Redis.
 */
import type { Redis } from '../redis/client.js';
import type pg from 'pg';
import { redactUrl, type Config } from '../config/config.js';
import { ErrorCodes, InvalidInputError, RescreenError } from '../errors/errors.js';
import { BatchGate } from '../money/batch-budget.js';
import { recordBatchTerms } from '../money/batch-terms.js';
import type { CallLedger } from '../money/call-budget.js';
import { callsKey } from '../redis/keys.js';
import { createPgPool, pgTarget, type PgTarget } from '../store/postgres/connection.js';
import { migrate, type MigrateResult } from '../store/postgres/migrate.js';
import { PgCallLedger } from '../store/postgres/pg-call-ledger.js';
import { PgResultStore } from '../store/postgres/pg-result-store.js';
import { RedisCallLedger } from '../store/redis-call-ledger.js';
import { RedisResultStore } from '../store/redis-result-store.js';
import { RedisCaseStore } from '../store/redis-case-store.js';
import { PgCaseStore } from '../store/postgres/pg-case-store.js';
import type { CaseStore } from '../store/cases.js';
import { PgRingStore } from '../store/postgres/pg-ring-store.js';
import { RedisRingStore } from '../store/redis-ring-store.js';
import type { RingStore } from '../store/rings.js';
import type { ResultStore, ResultStoreOptions } from '../store/types.js';

export interface OpenedStore {
  readonly kind: 'redis' | 'postgres';
  /** Which store, without credentials: `redis`, or `postgres://host:port/db?schema=…` (see {@link storeIdentity}). */
  readonly identity: string;
  readonly store: ResultStore;
  /** The review cases, beside the records. */
  readonly cases: CaseStore;
  /** The fraud rings (src/store/rings.ts), beside the records. */
  readonly rings: RingStore;
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

/** Opens a PostgreSQL store URL (`known`: the URL already read, as `config.store`; else it is read here) and applies its migrations. */
export async function openPgStore(
  url: string,
  options: ResultStoreOptions = {},
  known?: PgTarget,
): Promise<{ store: PgResultStore; pool: pg.Pool; migrated: MigrateResult }> {
  let target = known;
  try {
    target ??= pgTarget(url);
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

/**
 * The store a batch is enqueued into, recorded with it, without credentials: `redis` (the Redis
 * store of the batch's own prefix), or `postgres://host:port/db?schema=name`. A worker whose store
 * differs leaves the batch's jobs alone. Two spellings of one server (localhost, 127.0.0.1) differ.
 */
export function storeIdentity(target: PgTarget | undefined): string {
  if (target === undefined) return 'redis';
  const u = new URL(target.connectionString);
  return `postgres://${u.hostname.toLowerCase()}:${u.port === '' ? '5432' : u.port}${u.pathname === '' ? '/' : u.pathname}?schema=${target.schema}`;
}

export async function openStore(config: Config, redis: Redis, options: ResultStoreOptions): Promise<OpenedStore> {
  const identity = storeIdentity(config.store);
  // The batches' gate stays in Redis whatever the store: caps, state and paid counters are per batch.
  const gate = new BatchGate({ redis, prefix: config.prefix, store: identity, vendors: Object.keys(config.vendors), fallbackPrices: config.pricing.perCall });
  if (config.storeUrl === undefined) {
    return {
      kind: 'redis',
      identity,
      store: new RedisResultStore(redis, config.prefix, options),
      cases: new RedisCaseStore(redis, config.prefix),
      rings: new RedisRingStore(redis, config.prefix),
      ledger: new RedisCallLedger(redis, config.prefix, gate),
      pool: undefined,
      close: () => Promise.resolve(),
    };
  }
  const { store, pool } = await openPgStore(config.storeUrl, options, config.store);
  return { kind: 'postgres', identity, store, cases: new PgCaseStore(pool), rings: new PgRingStore(pool), ledger: new PgCallLedger(pool, gate), pool, close: () => pool.end() };
}

/**
 * Records a batch's terms — this process's prices and currency, and its store — unless it has them
 * (a batch's prices are its own from its first enqueue).
 * @throws InvalidInputError for a batch enqueued into another result store.
 */
export async function recordTerms(config: Config, redis: Redis, identity: string, batch: string): Promise<void> {
  const terms = { currency: config.pricing.currency, prices: config.pricing.perCall, store: identity };
  const refused = await recordBatchTerms(redis, callsKey(config.prefix, batch), terms);
  if (refused) {
    throw new InvalidInputError(
      `batch ${batch} was enqueued into the result store ${refused.otherStore}; this process uses ${identity} (RESCREEN_STORE_URL): use the batch's store, or another batch id`,
    );
  }
}
