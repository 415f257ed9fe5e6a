/**
 * The result store on PostgreSQL (tables and functions in migrations/postgres/), implementing the
 * contract of ../types.ts. A put is one call of the `put_record` function, which locks the batch's
 * row first: the writes of one batch are serialised there, so concurrent puts of one line leave one
 * record and counts that add up, and exactly one write finishes a batch. Records are kept as `json`
 * (the text as given); the subject and transaction-id columns are the indexes. The attempt log is an
 * append-only table. Streams read by keyset (`line > last ORDER BY line LIMIT n`): flat memory, and a
 * stream of a running batch picks up lines that arrive while it reads.
 */
import type pg from 'pg';
import { RECORD_STATUSES, VERDICTS, type RecordStatus, type ResultRecord, type Verdict } from '../../checks/types.js';
import { assertRecord, failureKey, failuresOf } from '../records.js';
import { forgetSubject, purgeFinishedBefore } from './pg-erasure.js';
import { compareRunSettings, runSettingsEntry, type RunSettings, type RunSettingsEntry } from '../run-settings.js';
import {
  DEFAULT_BATCH_LIST_LIMIT,
  DEFAULT_SUBJECT_LIMIT,
  type AttemptRow,
  type BatchDistribution,
  type BatchFinishedHook,
  type BatchSummary,
  type BatchWrite,
  type EraseCounts,
  type PurgeCounts,
  type PutManyResult,
  type PutResult,
  type ResultStore,
  type ResultStoreOptions,
} from '../types.js';

interface BatchRow {
  batch: string;
  created_at: string | null;
  manifest: string | null;
  producer_done: boolean;
  total: number;
  max_line: number;
  max_recorded_line: number;
  recorded: number;
  counts: Record<string, number>;
  possibly_billed: number;
  finished_at: string | null;
}

/** The put_record arguments of one record, in the function's order. */
function putArgs(record: ResultRecord): unknown[] {
  assertRecord(record);
  const now = Date.now();
  const finished = Date.parse(record.finishedAt);
  return [
    record.batch,
    record.line,
    JSON.stringify(record),
    record.status,
    record.verdict ?? null,
    nonEmpty(record.transactionId),
    nonEmpty(record.subject),
    nonEmpty(failureKey(record)),
    Number.isFinite(finished) ? finished : now,
    now,
    new Date(now).toISOString(),
  ];
}

function nonEmpty(value: string | null | undefined): string | null {
  return value === undefined || value === null || value === '' ? null : value;
}

interface PendingPut {
  readonly args: unknown[];
  resolve(result: { created: boolean; finished: boolean }): void;
  reject(error: unknown): void;
}

/** Puts written together at most (one statement). */
const MAX_GROUP = 500;
/** Group writes under way at once per store handle. */
const MAX_GROUPS_IN_FLIGHT = 2;
/** Lines a stream fetches per query when the options say nothing: fewer round trips for big exports. */
const PG_STREAM_CHUNK = 250;

/** Byte order, as the batch-row lock order (any total order shared by every process would do). */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export class PgResultStore implements ResultStore {
  private readonly pool: pg.Pool;
  private readonly waiting: PendingPut[] = [];
  private writing = 0;
  private readonly streamChunkSize: number;
  private readonly onBatchFinished: BatchFinishedHook | undefined;

  /** @param pool - a pool whose connections use the store's schema (connection.ts createPgPool); never ended here. */
  constructor(pool: pg.Pool, options: ResultStoreOptions = {}) {
    this.pool = pool;
    this.streamChunkSize = Math.max(1, Math.floor(options.streamChunkSize ?? PG_STREAM_CHUNK));
    this.onBatchFinished = options.onBatchFinished;
  }

  async put(record: ResultRecord): Promise<PutResult> {
    const args = putArgs(record);
    const result = await new Promise<{ created: boolean; finished: boolean }>((resolve, reject) => {
      this.waiting.push({ args, resolve, reject });
      this.kick();
    });
    if (result.finished) await this.onBatchFinished?.(record.batch);
    return { created: result.created, finishedBatch: result.finished };
  }

  /**
   * Group commit: puts that arrive while a write is under way go together in the next one (one
   * statement, one transaction, one WAL flush), each still its own `put_record` call in arrival order.
   * A put's commit is what holds its batch row's lock longest; sharing it is what lets one process
   * write thousands of records a second.
   */
  private kick(): void {
    while (this.writing < MAX_GROUPS_IN_FLIGHT && this.waiting.length > 0) {
      const group = this.waiting.splice(0, MAX_GROUP);
      this.writing += 1;
      this.writeGroup(group)
        .catch(() => undefined)
        .finally(() => {
          this.writing -= 1;
          this.kick();
        });
    }
  }

  private async writeGroup(group: readonly PendingPut[]): Promise<void> {
    try {
      const results = await this.putRows(group.map((p) => p.args));
      group.forEach((p, i) => p.resolve(results[i]!));
    } catch (error) {
      for (const p of group) p.reject(error);
    }
  }

  /**
   * put_record once per row, in one statement. Rows are taken in batch order (stable: a line's puts
   * keep their order), so two processes lock batch rows in the same order and never deadlock.
   */
  private async putRows(args: readonly unknown[][]): Promise<{ created: boolean; finished: boolean }[]> {
    const order = args.map((_, i) => i).sort((a, b) => compareText(String(args[a]![0]), String(args[b]![0])) || a - b);
    const column = (k: number) => order.map((i) => args[i]![k]);
    const { rows } = await this.pool.query<{ ord: string; created: boolean; finished: boolean }>(
      `SELECT u.ord, (p).created, (p).finished FROM (
         SELECT ord, put_record(b, l, r, s, v, t, sub, f, sc, nm, ni) AS p
           FROM unnest($1::text[], $2::int[], $3::json[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::bigint[], $11::text[])
                WITH ORDINALITY AS x(b, l, r, s, v, t, sub, f, sc, nm, ni, ord)
          ORDER BY ord) u`,
      Array.from({ length: 11 }, (_, k) => column(k)),
    );
    const out = new Array<{ created: boolean; finished: boolean }>(args.length);
    for (const row of rows) out[order[Number(row.ord) - 1]!] = { created: row.created, finished: row.finished };
    return out;
  }

  async putMany(records: readonly ResultRecord[]): Promise<PutManyResult> {
    if (records.length === 0) return { finishedBatch: false, finishedBatches: [] };
    const results = await this.putRows(records.map(putArgs));
    const finishedBatches = records.filter((_, i) => results[i]!.finished).map((r) => r.batch);
    for (const batch of finishedBatches) await this.onBatchFinished?.(batch);
    return { finishedBatch: finishedBatches.length > 0, finishedBatches };
  }

  async get(batch: string, line: number): Promise<ResultRecord | null> {
    const { rows } = await this.pool.query<{ record: ResultRecord }>('SELECT record FROM records WHERE batch = $1 AND line = $2', [batch, line]);
    return rows[0]?.record ?? null;
  }

  async has(batch: string, lines: readonly number[]): Promise<boolean[]> {
    if (lines.length === 0) return [];
    const { rows } = await this.pool.query<{ line: number }>('SELECT line FROM records WHERE batch = $1 AND line = ANY($2::int[])', [batch, lines]);
    const present = new Set(rows.map((r) => r.line));
    return lines.map((line) => present.has(line));
  }

  async byTransactionId(transactionId: string): Promise<ResultRecord | null> {
    if (transactionId === '') return null;
    const { rows } = await this.pool.query<{ record: ResultRecord }>(
      'SELECT r.record FROM tx JOIN records r ON r.batch = tx.batch AND r.line = tx.line WHERE tx.transaction_id = $1',
      [transactionId],
    );
    return rows[0]?.record ?? null;
  }

  async bySubject(subject: string, limit = DEFAULT_SUBJECT_LIMIT): Promise<ResultRecord[]> {
    if (subject === '' || limit <= 0) return [];
    const { rows } = await this.pool.query<{ record: ResultRecord }>(
      // (batch, line as text) in byte order: the order of the Redis store's ZSET members.
      `SELECT record FROM records WHERE subject = $1
        ORDER BY subject_score, batch COLLATE "C", line::text COLLATE "C" LIMIT $2`,
      [subject, limit],
    );
    return rows.map((r) => r.record);
  }

  /**
   * Line ranges of `streamChunkSize` up to the highest line known, then a look for more (as the Redis
   * store): a range query is fast whatever the planner's statistics say (a keyset `LIMIT` right after
   * a bulk load, before ANALYZE, sorted 10^5 rows on disk per chunk).
   */
  async *stream(batch: string): AsyncGenerator<ResultRecord> {
    const range = async (from: number, to: number) => {
      const { rows } = await this.pool.query<{ line: number; record: ResultRecord }>(
        'SELECT line, record FROM records WHERE batch = $1 AND line >= $2 AND line <= $3',
        [batch, from, to],
      );
      return rows.sort((a, b) => a.line - b.line);
    };
    let next = 1;
    let bound = await this.highestLine(batch);
    // One range ahead: the next query runs while the caller consumes this one.
    let ahead: Promise<{ line: number; record: ResultRecord }[]> | undefined;
    while (next <= bound) {
      const end = Math.min(bound, next + this.streamChunkSize - 1);
      const rows = await (ahead ?? range(next, end));
      next = end + 1;
      ahead = next <= bound ? range(next, Math.min(bound, next + this.streamChunkSize - 1)) : undefined;
      ahead?.catch(() => undefined);
      for (const row of rows) yield row.record;
      if (next > bound) bound = await this.highestLine(batch);
    }
  }

  private async highestLine(batch: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>('SELECT GREATEST(max_line, max_recorded_line) AS n FROM batches WHERE batch = $1', [batch]);
    return rows[0]?.n ?? 0;
  }

  async beginBatch(batch: string, manifest: string | null): Promise<void> {
    const now = Date.now();
    await this.pool.query(
      `INSERT INTO batches (batch, created_at, created_ms, manifest) VALUES ($1, $2, $3, $4)
       ON CONFLICT (batch) DO UPDATE SET producer_done = false,
         manifest = COALESCE(EXCLUDED.manifest, batches.manifest),
         created_at = COALESCE(batches.created_at, EXCLUDED.created_at),
         created_ms = COALESCE(batches.created_ms, EXCLUDED.created_ms)`,
      [batch, new Date(now).toISOString(), now, nonEmpty(manifest)],
    );
  }

  async finishBatch(batch: string, counts: { total: number; maxLine: number }): Promise<BatchWrite> {
    const now = Date.now();
    const { rows } = await this.pool.query<{ done: boolean }>('SELECT finish_batch($1, $2, $3, $4, $5) AS done', [
      batch,
      counts.total,
      counts.maxLine,
      now,
      new Date(now).toISOString(),
    ]);
    const finishedBatch = rows[0]?.done === true;
    if (finishedBatch) await this.onBatchFinished?.(batch);
    return { finishedBatch };
  }

  async summary(batch: string): Promise<BatchSummary | null> {
    const { rows } = await this.pool.query<BatchRow>('SELECT * FROM batches WHERE batch = $1', [batch]);
    const row = rows[0];
    if (!row || row.created_at === null) return null;
    const count = (key: string) => Number(row.counts[key] ?? 0);
    return {
      batch,
      createdAt: row.created_at,
      manifest: row.manifest,
      finishedAt: row.finished_at,
      producerDone: row.producer_done,
      total: row.total,
      maxLine: Math.max(row.max_line, row.max_recorded_line),
      recorded: row.recorded,
      byStatus: Object.fromEntries(RECORD_STATUSES.map((s) => [s, count(`status:${s}`)])) as Record<RecordStatus, number>,
      byVerdict: Object.fromEntries(VERDICTS.map((v) => [v, count(`verdict:${v}`)])) as Record<Verdict, number>,
      ...(row.possibly_billed > 0 ? { possiblyBilled: row.possibly_billed } : {}),
      ...failuresOf(Object.entries(row.counts).map(([k, v]) => [k, Number(v)] as const)),
    };
  }

  /** The batch row's `distribution` column (migration 005); an unknown batch has no row to update. */
  async keepDistribution(batch: string, distribution: BatchDistribution): Promise<void> {
    await this.pool.query('UPDATE batches SET distribution = $2 WHERE batch = $1 AND created_at IS NOT NULL', [batch, JSON.stringify(distribution)]);
  }

  async distribution(batch: string): Promise<BatchDistribution | null> {
    const { rows } = await this.pool.query<{ distribution: BatchDistribution | null }>('SELECT distribution FROM batches WHERE batch = $1', [batch]);
    return rows[0]?.distribution ?? null;
  }

  async listBatches(limit = DEFAULT_BATCH_LIST_LIMIT): Promise<string[]> {
    if (limit <= 0) return [];
    const { rows } = await this.pool.query<{ batch: string }>(
      'SELECT batch FROM batches WHERE created_ms IS NOT NULL ORDER BY created_ms DESC, batch COLLATE "C" DESC LIMIT $1',
      [limit],
    );
    return rows.map((r) => r.batch);
  }

  async appendAttempts(rows: readonly AttemptRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.pool.query(
      `INSERT INTO attempts (batch, line, subject, row, transaction_id)
       SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::json[], $5::text[])`,
      [rows.map((r) => r.batch), rows.map((r) => r.line), rows.map((r) => nonEmpty(r.subject)), rows.map((r) => JSON.stringify(r)), rows.map((r) => nonEmpty(r.transactionId))],
    );
  }

  async attemptsOf(batch: string, line: number): Promise<AttemptRow[]> {
    const { rows } = await this.pool.query<{ row: AttemptRow }>('SELECT row FROM attempts WHERE batch = $1 AND line = $2 ORDER BY id', [batch, line]);
    return rows.map((r) => r.row);
  }

  async *streamAttempts(batch: string): AsyncGenerator<AttemptRow> {
    let after = '0';
    for (;;) {
      const { rows } = await this.pool.query<{ id: string; row: AttemptRow }>(
        'SELECT id, row FROM attempts WHERE batch = $1 AND id > $2 ORDER BY id LIMIT $3',
        [batch, after, this.streamChunkSize],
      );
      for (const r of rows) yield r.row;
      if (rows.length === 0) return;
      after = rows[rows.length - 1]!.id;
    }
  }

  async attemptByTransactionId(transactionId: string): Promise<AttemptRow | null> {
    if (transactionId === '') return null;
    const { rows } = await this.pool.query<{ row: AttemptRow }>('SELECT row FROM attempts WHERE transaction_id = $1 ORDER BY id DESC LIMIT 1', [
      transactionId,
    ]);
    return rows[0]?.row ?? null;
  }

  async recordRunSettings(batch: string, settings: RunSettings, at: string): Promise<boolean> {
    const entry = runSettingsEntry(settings, at);
    const { rowCount } = await this.pool.query(
      'INSERT INTO run_settings (batch, hash, settings, first_seen_at) VALUES ($1, $2, $3, $4) ON CONFLICT (batch, hash) DO NOTHING',
      [batch, entry.hash, JSON.stringify(entry), at],
    );
    return rowCount === 1;
  }

  async runSettings(batch: string): Promise<RunSettingsEntry[]> {
    const { rows } = await this.pool.query<{ settings: RunSettingsEntry }>('SELECT settings FROM run_settings WHERE batch = $1', [batch]);
    return rows.map((r) => r.settings).sort(compareRunSettings);
  }

  forgetSubject(subject: string): Promise<EraseCounts> {
    return forgetSubject(this.pool, subject);
  }

  purgeFinishedBefore(before: Date): Promise<PurgeCounts> {
    return purgeFinishedBefore(this.pool, before);
  }
}
