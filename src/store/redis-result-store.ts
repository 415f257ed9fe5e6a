import type { Redis } from 'ioredis';
import { RECORD_STATUSES, VERDICTS, type RecordStatus, type ResultRecord, type Verdict } from '../checks/types.js';
import { batchesKey, batchKeys, parseRecordMember, recordMember, subjectKey, subjectKeyPrefix, txKey } from '../redis/keys.js';
import { assertRecord, failureKey, failuresOf, parseRecord } from './records.js';
import { RedisAttemptLog } from './redis-attempt-log.js';
import { scripts } from '../redis/scripts.js';
import {
  DEFAULT_BATCH_LIST_LIMIT,
  DEFAULT_STREAM_CHUNK_SIZE,
  DEFAULT_SUBJECT_LIMIT,
  type BatchDistribution,
  type BatchFinishedHook,
  type BatchSummary,
  type AttemptRow,
  type BatchWrite,
  type EraseCounts,
  type PurgeCounts,
  type PutManyResult,
  type PutResult,
  type ResultStore,
  type ResultStoreOptions,
  type RunSettings,
  type RunSettingsEntry,
} from './types.js';

/** Kept for importers of the old location. */
export { DEFAULT_BATCH_LIST_LIMIT, DEFAULT_SUBJECT_LIMIT } from './types.js';

/** Options of {@link RedisResultStore}: those of every backend (types.ts). */
export type RedisResultStoreOptions = ResultStoreOptions;

type PutCall = Parameters<typeof scripts.storePut>[1];

/**
 * The result store on Redis (key layout in src/redis/keys.ts, scripts in src/redis/lua/store-*.lua), implementing the
 * contract of ./types.ts. `put` is one Lua script, so replacing a record and moving its counts and
 * index entries happen atomically: concurrent puts of the same (batch, line) leave one record and
 * counts that never double; the finished check runs in the same script, so one write finishes a batch.
 */
export class RedisResultStore implements ResultStore {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly streamChunkSize: number;
  private readonly onBatchFinished: BatchFinishedHook | undefined;
  private readonly log: RedisAttemptLog;

  /**
   * @param redis - a connected ioredis client; the store runs its Lua scripts on it and never closes it.
   * @param prefix - key prefix (e.g. `rescreen`); keys live under `${prefix}:store:`.
   */
  constructor(redis: Redis, prefix: string, options: RedisResultStoreOptions = {}) {
    this.redis = redis;
    this.prefix = prefix;
    this.streamChunkSize = Math.max(1, Math.floor(options.streamChunkSize ?? DEFAULT_STREAM_CHUNK_SIZE));
    this.onBatchFinished = options.onBatchFinished;
    this.log = new RedisAttemptLog(redis, prefix, this.streamChunkSize);
  }

  /** The put script's keys and arguments for one record. */
  private putCall(record: ResultRecord): PutCall {
    assertRecord(record);
    const keys = batchKeys(this.prefix, record.batch);
    const now = Date.now();
    const finished = Date.parse(record.finishedAt);
    const verdict = record.verdict ?? '';
    const transactionId = record.transactionId ?? '';
    const subject = record.subject ?? '';
    const failure = failureKey(record);
    return {
      recordsKey: keys.records,
      idxKey: keys.idx,
      metaKey: keys.meta,
      txKey: txKey(this.prefix),
      batchesKey: batchesKey(this.prefix),
      batch: record.batch,
      line: String(record.line),
      recordJson: JSON.stringify(record),
      idxJson: JSON.stringify([record.status, verdict, transactionId, subject, failure]),
      status: record.status,
      verdict,
      transactionId,
      subject,
      failure,
      subjectScore: String(Number.isFinite(finished) ? finished : now),
      member: recordMember(record.batch, record.line),
      subjectKeyPrefix: subjectKeyPrefix(this.prefix),
      nowMs: String(now),
      nowIso: new Date(now).toISOString(),
    };
  }

  async put(record: ResultRecord): Promise<PutResult> {
    const [created, finished] = await scripts.storePut(this.redis, this.putCall(record));
    const finishedBatch = finished === 1;
    if (finishedBatch) await this.onBatchFinished?.(record.batch);
    return { created: created === 1, finishedBatch };
  }

  async putMany(records: readonly ResultRecord[]): Promise<PutManyResult> {
    if (records.length === 0) return { finishedBatch: false, finishedBatches: [] };
    const answers = await scripts.storePut.many(
      this.redis,
      records.map((record) => this.putCall(record)),
    );
    const finishedBatches: string[] = [];
    for (const [i, [, finished]] of answers.entries()) {
      if (finished !== 1) continue;
      const batch = records[i]!.batch;
      finishedBatches.push(batch);
      await this.onBatchFinished?.(batch);
    }
    return { finishedBatch: finishedBatches.length > 0, finishedBatches };
  }

  async get(batch: string, line: number): Promise<ResultRecord | null> {
    const json = await this.redis.hget(batchKeys(this.prefix, batch).records, String(line));
    return json === null ? null : parseRecord(json);
  }

  async has(batch: string, lines: readonly number[]): Promise<boolean[]> {
    if (lines.length === 0) return [];
    const values = await this.redis.hmget(batchKeys(this.prefix, batch).idx, ...lines.map(String));
    return values.map((v) => v !== null);
  }

  async byTransactionId(transactionId: string): Promise<ResultRecord | null> {
    if (transactionId === '') return null;
    const member = await this.redis.hget(txKey(this.prefix), transactionId);
    const where = member === null ? null : parseRecordMember(member);
    return where === null ? null : this.get(where.batch, where.line);
  }

  /** Oldest first (by finishedAt); at most `limit` records (default {@link DEFAULT_SUBJECT_LIMIT}). */
  async bySubject(subject: string, limit = DEFAULT_SUBJECT_LIMIT): Promise<ResultRecord[]> {
    if (subject === '' || limit <= 0) return [];
    const members = await this.redis.zrange(subjectKey(this.prefix, subject), 0, limit - 1);
    if (members.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const member of members) {
      const where = parseRecordMember(member);
      if (where) pipeline.hget(batchKeys(this.prefix, where.batch).records, String(where.line));
    }
    const results = (await pipeline.exec()) ?? [];
    const records: ResultRecord[] = [];
    for (const [error, value] of results) {
      if (error) throw error;
      if (typeof value === 'string') records.push(parseRecord(value));
    }
    return records;
  }

  /**
   * Yields the batch's records in line order, `streamChunkSize` lines per HMGET, skipping lines with
   * no record. Works while the batch is running: when it reaches the highest line known at the start,
   * it looks again and continues if records with higher lines have arrived since.
   */
  async *stream(batch: string): AsyncGenerator<ResultRecord> {
    const keys = batchKeys(this.prefix, batch);
    let next = 1;
    let bound = await this.highestLine(keys.meta);
    while (next <= bound) {
      const end = Math.min(bound, next + this.streamChunkSize - 1);
      const fields: string[] = [];
      for (let line = next; line <= end; line++) fields.push(String(line));
      const values = await this.redis.hmget(keys.records, ...fields);
      for (const value of values) if (value !== null) yield parseRecord(value);
      next = end + 1;
      if (next > bound) bound = await this.highestLine(keys.meta);
    }
  }

  private async highestLine(metaKey: string): Promise<number> {
    const [producer, recorded] = await this.redis.hmget(metaKey, 'maxLine', 'maxRecordedLine');
    return Math.max(toInt(producer), toInt(recorded));
  }

  async beginBatch(batch: string, manifest: string | null): Promise<void> {
    const now = Date.now();
    await scripts.storeBeginBatch(this.redis, {
      metaKey: batchKeys(this.prefix, batch).meta,
      batchesKey: batchesKey(this.prefix),
      batch,
      manifest: manifest ?? '',
      nowMs: String(now),
      nowIso: new Date(now).toISOString(),
    });
  }

  async finishBatch(batch: string, counts: { total: number; maxLine: number }): Promise<BatchWrite> {
    const finished = await scripts.storeFinishBatch(this.redis, {
      metaKey: batchKeys(this.prefix, batch).meta,
      total: String(counts.total),
      maxLine: String(counts.maxLine),
      nowIso: new Date().toISOString(),
    });
    const finishedBatch = finished === 1;
    if (finishedBatch) await this.onBatchFinished?.(batch);
    return { finishedBatch };
  }

  async summary(batch: string): Promise<BatchSummary | null> {
    const meta = await this.redis.hgetall(batchKeys(this.prefix, batch).meta);
    const createdAt = meta.createdAt;
    if (createdAt === undefined) return null;
    const byStatus = Object.fromEntries(RECORD_STATUSES.map((s) => [s, toInt(meta[`status:${s}`])])) as Record<
      RecordStatus,
      number
    >;
    const byVerdict = Object.fromEntries(VERDICTS.map((v) => [v, toInt(meta[`verdict:${v}`])])) as Record<Verdict, number>;
    return {
      batch,
      createdAt,
      manifest: meta.manifest ?? null,
      finishedAt: meta.finishedAt ?? null,
      producerDone: meta.producerDone === '1',
      total: toInt(meta.total),
      maxLine: Math.max(toInt(meta.maxLine), toInt(meta.maxRecordedLine)),
      recorded: toInt(meta.recorded),
      byStatus,
      byVerdict,
      // Counted by the call budget (src/money/call-budget.ts); only shown when there are some.
      ...(toInt(meta.possiblyBilled) > 0 ? { possiblyBilled: toInt(meta.possiblyBilled) } : {}),
      ...failuresOf(Object.entries(meta).map(([k, v]) => [k, toInt(v)] as const)),
    };
  }

  /** The meta hash's `distribution` field, only on a batch that exists (has `createdAt`); `del` of the meta drops it. */
  async keepDistribution(batch: string, distribution: BatchDistribution): Promise<void> {
    const metaKey = batchKeys(this.prefix, batch).meta;
    if ((await this.redis.hexists(metaKey, 'createdAt')) === 1) await this.redis.hset(metaKey, 'distribution', JSON.stringify(distribution));
  }

  async distribution(batch: string): Promise<BatchDistribution | null> {
    const kept = await this.redis.hget(batchKeys(this.prefix, batch).meta, 'distribution');
    return kept === null ? null : (JSON.parse(kept) as BatchDistribution);
  }

  appendAttempts(rows: readonly AttemptRow[]): Promise<void> {
    return this.log.append(rows);
  }

  attemptsOf(batch: string, line: number): Promise<AttemptRow[]> {
    return this.log.of(batch, line);
  }

  streamAttempts(batch: string): AsyncIterable<AttemptRow> {
    return this.log.stream(batch);
  }

  attemptByTransactionId(transactionId: string): Promise<AttemptRow | null> {
    return this.log.byTransactionId(transactionId);
  }

  forgetSubject(subject: string): Promise<EraseCounts> {
    return this.log.forgetSubject(subject);
  }

  purgeFinishedBefore(before: Date): Promise<PurgeCounts> {
    return this.log.purgeFinishedBefore(before);
  }

  recordRunSettings(batch: string, settings: RunSettings, at: string): Promise<boolean> {
    return this.log.recordRunSettings(batch, settings, at);
  }

  runSettings(batch: string): Promise<RunSettingsEntry[]> {
    return this.log.runSettings(batch);
  }

  /** Newest first (by createdAt); at most `limit` ids (default {@link DEFAULT_BATCH_LIST_LIMIT}). */
  async listBatches(limit = DEFAULT_BATCH_LIST_LIMIT): Promise<string[]> {
    if (limit <= 0) return [];
    return this.redis.zrevrange(batchesKey(this.prefix), 0, limit - 1);
  }
}

function toInt(value: string | null | undefined): number {
  if (value === null || value === undefined) return 0;
  const n = Number.parseInt(value, 10);
  return Number.isFinite(n) ? n : 0;
}
