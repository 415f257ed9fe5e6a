/**
 * Operations on the result store itself: migrations, the attempt log export, erasure (forget a
 * subject, purge old batches) and copying the Redis store into PostgreSQL.
 */
import type { Config } from '../config/config.js';
import { InvalidInputError } from '../errors/errors.js';
import { openPgStore } from '../runtime/store.js';
import type { Runtime } from '../runtime/runtime.js';
import { countAttempts, keepSourceSummary } from '../store/postgres/pg-copy.js';
import { createPgPool, pgTarget } from '../store/postgres/connection.js';
import { dropSchema, type MigrateResult } from '../store/postgres/migrate.js';
import type { Tombstone } from '../store/cases.js';
import type { AttemptRow, PurgeCounts } from '../store/types.js';

/** `rescreen db migrate`: applies the PostgreSQL store's migrations (RESCREEN_STORE_URL); needs no Redis. */
export async function migrateStore(config: Config): Promise<MigrateResult> {
  if (config.storeUrl === undefined) {
    throw new InvalidInputError('RESCREEN_STORE_URL is not set: the Redis store needs no migrations (set it to postgres://… to use PostgreSQL)');
  }
  const { pool, migrated } = await openPgStore(config.storeUrl, {}, config.store);
  await pool.end();
  return migrated;
}

/**
 * Drops a PostgreSQL store's schema with everything in it: the testing kit's own store, at its
 * cleanup. @throws TypeError for a URL that is not a store URL.
 */
export async function dropStore(url: string): Promise<void> {
  const target = pgTarget(url);
  const pool = createPgPool(target, { max: 1 });
  try {
    await dropSchema(pool, target.schema);
  } finally {
    await pool.end();
  }
}

/** The attempt log of a batch, in the order the calls were answered. */
export function batchAttempts(runtime: Runtime, batch: string): AsyncIterable<AttemptRow> {
  return runtime.store.streamAttempts(batch);
}

/**
 * `rescreen forget --subject S`: erases the subject's records and attempt rows, then what ties it to
 * a fraud ring (its media and template entries, links and membership), then its review cases and
 * their decisions (the one path that removes a decision) and its id in other cases' `sharedWith`,
 * and leaves a tombstone: when, and how much was erased; never who. Running it again finishes an
 * erasure a crash interrupted.
 */
export async function forgetSubject(runtime: Runtime, subject: string): Promise<Tombstone> {
  if (subject.trim() === '') throw new InvalidInputError('--subject must not be empty');
  const erased = await runtime.store.forgetSubject(subject);
  await runtime.rings.eraseSubject(subject);
  // Last, as one transaction with the tombstone: a tombstone is left only once all of it is gone.
  return runtime.cases.eraseSubject(subject, { at: new Date().toISOString(), records: erased.records, attempts: erased.attempts });
}

/** `rescreen erasures`: the tombstones `forget` left, newest first. */
export function erasureTombstones(runtime: Runtime, limit?: number): Promise<Tombstone[]> {
  return runtime.cases.tombstones(limit);
}

/** Parses `--before`: an ISO 8601 date or date-time (a date alone is midnight UTC). */
export function parseBefore(text: string): Date {
  const value = text.trim();
  const date = /^\d{4}-\d\d-\d\d$/.test(value) ? new Date(`${value}T00:00:00Z`) : new Date(value);
  if (!/^\d{4}-\d\d-\d\d/.test(value) || Number.isNaN(date.getTime())) {
    throw new InvalidInputError(`--before must be an ISO 8601 date such as 2024-05-01 or 2024-05-01T12:00:00Z (got ${JSON.stringify(text)})`);
  }
  return date;
}

/** `rescreen purge --before DATE`: drops whole batches finished before it. */
export async function purgeBatches(runtime: Runtime, before: Date): Promise<PurgeCounts> {
  return runtime.store.purgeFinishedBefore(before);
}

/** What `store copy` did. */
export interface CopySummary {
  readonly batches: number;
  readonly records: number;
  readonly attempts: number;
  /** Attempt rows the target already had (an earlier copy): the log is append-only, so they are skipped. */
  readonly attemptsSkipped: number;
}

const COPY_CHUNK = 500;

/**
 * `rescreen store copy --to postgres://…`: every batch of the runtime's Redis store, with its
 * records, summary times and attempt log, into the PostgreSQL store at `url` (migrated first).
 * Idempotent: records are puts (a second copy replaces each with itself), the summary's times are
 * the source's, and attempt rows already copied (the target's first rows of the batch) are skipped.
 */
export async function copyStore(runtime: Runtime, url: string): Promise<CopySummary> {
  if (runtime.storeKind !== 'redis') {
    throw new InvalidInputError('store copy reads the Redis store: unset RESCREEN_STORE_URL for this command (the target is --to)');
  }
  const source = runtime.store;
  const { store: target, pool } = await openPgStore(url);
  const counts = { batches: 0, records: 0, attempts: 0, attemptsSkipped: 0 };
  try {
    for (const batch of await source.listBatches(Number.MAX_SAFE_INTEGER)) {
      const summary = await source.summary(batch);
      if (!summary) continue;
      await target.beginBatch(batch, summary.manifest);
      let chunk = [];
      for await (const record of source.stream(batch)) {
        chunk.push(record);
        if (chunk.length >= COPY_CHUNK) {
          await target.putMany(chunk);
          counts.records += chunk.length;
          chunk = [];
        }
      }
      await target.putMany(chunk);
      counts.records += chunk.length;
      if (summary.producerDone) await target.finishBatch(batch, { total: summary.total, maxLine: summary.maxLine });
      await keepSourceSummary(pool, summary);
      let skip = await countAttempts(pool, batch);
      let rows: AttemptRow[] = [];
      for await (const row of source.streamAttempts(batch)) {
        if (skip > 0) {
          skip -= 1;
          counts.attemptsSkipped += 1;
          continue;
        }
        rows.push(row);
        if (rows.length >= COPY_CHUNK) {
          await target.appendAttempts(rows);
          counts.attempts += rows.length;
          rows = [];
        }
      }
      await target.appendAttempts(rows);
      counts.attempts += rows.length;
      // What the batch ran with, each first time kept (a second copy finds them there).
      for (const entry of await source.runSettings(batch)) await target.recordRunSettings(batch, entry, entry.firstSeenAt);
      counts.batches += 1;
    }
  } finally {
    await pool.end();
  }
  return counts;
}
