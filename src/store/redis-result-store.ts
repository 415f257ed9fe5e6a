import type { ChainableCommander, Redis } from 'ioredis';
import { RECORD_STATUSES, VERDICTS, type RecordStatus, type ResultRecord, type Verdict } from '../checks/types.js';
import {
  batchesKey,
  batchKeys,
  parseRecordMember,
  recordMember,
  subjectKeyPrefix,
  txKey,
} from './keys.js';
import { BEGIN_BATCH_SCRIPT, FINISH_BATCH_SCRIPT, PUT_KEY_COUNT, PUT_SCRIPT } from './scripts.js';
import type { BatchSummary, ResultStore } from './types.js';

/** Options of {@link RedisResultStore}. */
export interface RedisResultStoreOptions {
  /** Lines fetched per round trip by `stream`. Default 500. */
  readonly streamChunkSize?: number;
  /**
   * Called once per batch, when a write finishes it (the producer is done and every line has a
   * record), e.g. to send the completion webhook. Awaited; an error propagates to the writer.
   */
  readonly onBatchFinished?: (batch: string) => Promise<void>;
}

/** Default `limit` of `bySubject`. */
export const DEFAULT_SUBJECT_LIMIT = 1_000;
/** Default `limit` of `listBatches`. */
export const DEFAULT_BATCH_LIST_LIMIT = 100;

const PUT_COMMAND = 'rescreenStorePut';
const BEGIN_COMMAND = 'rescreenStoreBeginBatch';
const FINISH_COMMAND = 'rescreenStoreFinishBatch';
/** Bit of the put/finish scripts' answer that says "this write finished the batch". */
const FINISHED_BIT = 2;

type Arg = string | number;
interface StoreCommands {
  [PUT_COMMAND](...args: Arg[]): Promise<number>;
  [BEGIN_COMMAND](...args: Arg[]): Promise<number>;
  [FINISH_COMMAND](...args: Arg[]): Promise<number>;
}
type StorePipeline = ChainableCommander & { [PUT_COMMAND](...args: Arg[]): ChainableCommander };

/**
 * The result store on Redis (key layout in ./keys.ts). `put` is one Lua script, so replacing a
 * record and moving its counts and index entries happen atomically: concurrent puts of the same
 * (batch, line) leave one record and counts that never double.
 *
 * Empty strings in `transactionId` and `subject` are treated like `null`: not indexed.
 */
export class RedisResultStore implements ResultStore {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly streamChunkSize: number;
  private readonly onBatchFinished: ((batch: string) => Promise<void>) | undefined;

  /**
   * @param redis - a connected ioredis client; the store defines its Lua commands on it and never closes it.
   * @param prefix - key prefix (e.g. `rescreen`); keys live under `${prefix}:store:`.
   */
  constructor(redis: Redis, prefix: string, options: RedisResultStoreOptions = {}) {
    this.redis = redis;
    this.prefix = prefix;
    this.streamChunkSize = Math.max(1, Math.floor(options.streamChunkSize ?? 500));
    this.onBatchFinished = options.onBatchFinished;
    redis.defineCommand(PUT_COMMAND, { numberOfKeys: PUT_KEY_COUNT, lua: PUT_SCRIPT });
    redis.defineCommand(BEGIN_COMMAND, { numberOfKeys: 2, lua: BEGIN_BATCH_SCRIPT });
    redis.defineCommand(FINISH_COMMAND, { numberOfKeys: 1, lua: FINISH_BATCH_SCRIPT });
  }

  private get commands(): StoreCommands {
    return this.redis as unknown as StoreCommands;
  }

  /** KEYS + ARGV of the put script for one record. */
  private putArgs(record: ResultRecord): Arg[] {
    assertRecord(record);
    const keys = batchKeys(this.prefix, record.batch);
    const now = Date.now();
    const finished = Date.parse(record.finishedAt);
    const verdict = record.verdict ?? '';
    const tx = record.transactionId ?? '';
    const subject = record.subject ?? '';
    return [
      keys.records,
      keys.idx,
      keys.meta,
      txKey(this.prefix),
      batchesKey(this.prefix),
      record.line,
      JSON.stringify(record),
      JSON.stringify([record.status, verdict, tx, subject]),
      record.status,
      verdict,
      tx,
      subject,
      Number.isFinite(finished) ? finished : now,
      recordMember(record.batch, record.line),
      subjectKeyPrefix(this.prefix),
      record.batch,
      now,
      new Date(now).toISOString(),
    ];
  }

  async put(record: ResultRecord): Promise<void> {
    const answer = await this.commands[PUT_COMMAND](...this.putArgs(record));
    await this.announceIfFinished(record.batch, answer);
  }

  private async announceIfFinished(batch: string, answer: unknown): Promise<void> {
    if (this.onBatchFinished && (Number(answer) & FINISHED_BIT) !== 0) await this.onBatchFinished(batch);
  }

  async putMany(records: readonly ResultRecord[]): Promise<void> {
    if (records.length === 0) return;
    const pipeline = this.redis.pipeline() as StorePipeline;
    for (const record of records) pipeline[PUT_COMMAND](...this.putArgs(record));
    const results = (await pipeline.exec()) ?? [];
    for (const [error] of results) if (error) throw error;
    for (const [i, [, answer]] of results.entries()) await this.announceIfFinished(records[i]!.batch, answer);
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
    const members = await this.redis.zrange(`${subjectKeyPrefix(this.prefix)}${subject}`, 0, limit - 1);
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
    await this.commands[BEGIN_COMMAND](
      batchKeys(this.prefix, batch).meta,
      batchesKey(this.prefix),
      batch,
      now,
      new Date(now).toISOString(),
      manifest ?? '',
    );
  }

  async finishBatch(batch: string, counts: { total: number; maxLine: number }): Promise<void> {
    const now = new Date().toISOString();
    // ARGV[13] is the clock, as in the put script (the finished check is shared).
    const argv: Arg[] = [counts.total, counts.maxLine, '', '', '', '', '', '', '', '', '', '', now];
    const answer = await this.commands[FINISH_COMMAND](batchKeys(this.prefix, batch).meta, ...argv);
    await this.announceIfFinished(batch, answer);
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
      // Counted by the call budget (src/queues/call-budget.ts); only shown when there are some.
      ...(toInt(meta.possiblyBilled) > 0 ? { possiblyBilled: toInt(meta.possiblyBilled) } : {}),
    };
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

function parseRecord(json: string): ResultRecord {
  return JSON.parse(json) as ResultRecord;
}

/** Programming errors only: the producer and processors build records from validated data. */
function assertRecord(record: ResultRecord): void {
  if (!Number.isSafeInteger(record.line) || record.line < 1) {
    throw new TypeError(`record line must be a positive integer (got ${String(record.line)})`);
  }
  if (typeof record.batch !== 'string' || record.batch === '' || record.batch.includes('\n')) {
    throw new TypeError('record batch must be a non-empty string without newlines');
  }
  if (!RECORD_STATUSES.includes(record.status)) {
    throw new TypeError(`record status must be one of ${RECORD_STATUSES.join(', ')} (got ${String(record.status)})`);
  }
}
