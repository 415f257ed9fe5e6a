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
import { assertRecord } from '../records.js';
import {
  DEFAULT_BATCH_LIST_LIMIT,
  DEFAULT_STREAM_CHUNK_SIZE,
  DEFAULT_SUBJECT_LIMIT,
  type AttemptRow,
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
    Number.isFinite(finished) ? finished : now,
    now,
    new Date(now).toISOString(),
  ];
}

function nonEmpty(value: string | null | undefined): string | null {
  return value === undefined || value === null || value === '' ? null : value;
}

export class PgResultStore implements ResultStore {
  private readonly pool: pg.Pool;
  private readonly streamChunkSize: number;
  private readonly onBatchFinished: BatchFinishedHook | undefined;

  /** @param pool - a pool whose connections use the store's schema (connection.ts createPgPool); never ended here. */
  constructor(pool: pg.Pool, options: ResultStoreOptions = {}) {
    this.pool = pool;
    this.streamChunkSize = Math.max(1, Math.floor(options.streamChunkSize ?? DEFAULT_STREAM_CHUNK_SIZE));
    this.onBatchFinished = options.onBatchFinished;
  }

  async put(record: ResultRecord): Promise<PutResult> {
    const { rows } = await this.pool.query<{ created: boolean; finished: boolean }>(
      'SELECT created, finished FROM put_record($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)',
      putArgs(record),
    );
    const finishedBatch = rows[0]?.finished === true;
    if (finishedBatch) await this.onBatchFinished?.(record.batch);
    return { created: rows[0]?.created === true, finishedBatch };
  }

  async putMany(records: readonly ResultRecord[]): Promise<PutManyResult> {
    if (records.length === 0) return { finishedBatch: false, finishedBatches: [] };
    const args = records.map(putArgs);
    const column = (i: number) => args.map((a) => a[i]);
    // One round trip: put_record once per array element, in order (each call is atomic on its batch row).
    const { rows } = await this.pool.query<{ batch: string; finished: boolean }>(
      `SELECT u.b AS batch, (put_record(u.b, u.l, u.r, u.s, u.v, u.t, u.sub, u.sc, u.nm, u.ni)).finished
         FROM unnest($1::text[], $2::int[], $3::json[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[], $10::text[])
              WITH ORDINALITY AS u(b, l, r, s, v, t, sub, sc, nm, ni, ord)
        ORDER BY u.ord`,
      Array.from({ length: 10 }, (_, i) => column(i)),
    );
    const finishedBatches = rows.filter((r) => r.finished).map((r) => r.batch);
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

  async *stream(batch: string): AsyncGenerator<ResultRecord> {
    let after = 0;
    for (;;) {
      const { rows } = await this.pool.query<{ line: number; record: ResultRecord }>(
        'SELECT line, record FROM records WHERE batch = $1 AND line > $2 ORDER BY line LIMIT $3',
        [batch, after, this.streamChunkSize],
      );
      for (const row of rows) yield row.record;
      if (rows.length === 0) return;
      after = rows[rows.length - 1]!.line;
    }
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
    };
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

  async forgetSubject(subject: string): Promise<EraseCounts> {
    if (subject === '') return { records: 0, attempts: 0 };
    return this.transaction(async (client) => {
      const { rows: batches } = await client.query<{ batch: string }>(
        'SELECT DISTINCT batch FROM records WHERE subject = $1 ORDER BY batch',
        [subject],
      );
      const names = batches.map((b) => b.batch);
      // Lock the batch rows in one order (as puts do, one at a time): no deadlock with a running batch.
      if (names.length > 0) await client.query('SELECT 1 FROM batches WHERE batch = ANY($1::text[]) ORDER BY batch FOR UPDATE', [names]);
      const gone = await client.query<{ batch: string; line: number }>('DELETE FROM records WHERE subject = $1 RETURNING batch, line', [subject]);
      await client.query(
        `DELETE FROM tx USING unnest($1::text[], $2::int[]) AS g(b, l) WHERE tx.batch = g.b AND tx.line = g.l`,
        [gone.rows.map((r) => r.batch), gone.rows.map((r) => r.line)],
      );
      if (names.length > 0) await client.query(RECOUNT_SQL, [names]);
      const attempts = await client.query('DELETE FROM attempts WHERE subject = $1', [subject]);
      return { records: gone.rowCount ?? 0, attempts: attempts.rowCount ?? 0 };
    });
  }

  async purgeFinishedBefore(before: Date): Promise<PurgeCounts> {
    return this.transaction(async (client) => {
      const { rows } = await client.query<{ batch: string }>('SELECT batch FROM batches WHERE finished_ms < $1 ORDER BY batch FOR UPDATE', [
        before.getTime(),
      ]);
      const names = rows.map((r) => r.batch);
      if (names.length === 0) return { batches: 0, records: 0, attempts: 0 };
      const records = await client.query('DELETE FROM records WHERE batch = ANY($1::text[])', [names]);
      const attempts = await client.query('DELETE FROM attempts WHERE batch = ANY($1::text[])', [names]);
      await client.query('DELETE FROM tx WHERE batch = ANY($1::text[])', [names]);
      await client.query('DELETE FROM line_calls WHERE batch = ANY($1::text[])', [names]);
      await client.query('DELETE FROM batches WHERE batch = ANY($1::text[])', [names]);
      return { batches: names.length, records: records.rowCount ?? 0, attempts: attempts.rowCount ?? 0 };
    });
  }

  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
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
}

/** Recomputes `recorded` and the counts of the batches in $1 from their records (after an erasure). */
const RECOUNT_SQL = `
UPDATE batches b SET recorded = c.n, counts = c.counts
  FROM (
    SELECT x.batch, COUNT(r.line)::int AS n,
           COALESCE((SELECT jsonb_object_agg(k, v) FROM (
              SELECT 'status:' || status AS k, COUNT(*) AS v FROM records WHERE batch = x.batch GROUP BY status
              UNION ALL
              SELECT 'verdict:' || verdict, COUNT(*) FROM records WHERE batch = x.batch AND verdict IS NOT NULL GROUP BY verdict) kv), '{}'::jsonb) AS counts
      FROM unnest($1::text[]) AS x(batch) LEFT JOIN records r ON r.batch = x.batch
     GROUP BY x.batch) c
 WHERE b.batch = c.batch`;
