/** An in-memory ResultStore for tests only (it passes the conformance suite, test/integration/store/conformance.ts). */
import { RECORD_STATUSES, VERDICTS, type RecordStatus, type ResultRecord, type Verdict } from '../../src/checks/types.js';
import { compareRunSettings, runSettingsEntry, type RunSettings, type RunSettingsEntry } from '../../src/store/run-settings.js';
import { assertRecord, bumpFailure as bump, failureKey, failuresOf, parseRecord } from '../../src/store/records.js';
import {
  DEFAULT_BATCH_LIST_LIMIT,
  DEFAULT_STREAM_CHUNK_SIZE,
  DEFAULT_SUBJECT_LIMIT,
  isBatchFinished,
  type BatchFinishedHook,
  type BatchDistribution,
  type BatchSummary,
  type AttemptRow,
  type BatchWrite,
  type EraseCounts,
  type PurgeCounts,
  type PutManyResult,
  type PutResult,
  type ResultStore,
  type ResultStoreOptions,
} from '../../src/store/types.js';

/** What one batch holds: the same fields as the Redis store's meta hash (keys.ts). */
interface BatchState {
  /** Unset until the first beginBatch or put (a finishBatch alone does not register a batch). */
  createdAt?: string;
  createdMs?: number;
  manifest: string | null;
  producerDone: boolean;
  total: number;
  maxLine: number;
  maxRecordedLine: number;
  finishedAt: string | null;
  /** line → the record's JSON, exactly as given. */
  readonly records: Map<number, string>;
  /** line → what a replacement must undo. */
  readonly idx: Map<number, { status: RecordStatus; verdict: Verdict | null; transactionId: string; subject: string; failure: string }>;
  readonly byStatus: Record<RecordStatus, number>;
  readonly byVerdict: Record<Verdict, number>;
  /** `failed:<failureKey>` → count (records.ts). */
  readonly failures: Map<string, number>;
  /** The kept score distributions' JSON (keepDistribution). */
  distribution?: string;
}

interface Where {
  readonly batch: string;
  readonly line: number;
}

/**
 * The data of an in-memory store. Several {@link MemoryResultStore} handles (with different options)
 * can share one, as several Redis clients share one Redis.
 */
export class MemoryStoreData {
  readonly batches = new Map<string, BatchState>();
  /** transactionId → the record that last carried it. */
  readonly tx = new Map<string, Where>();
  /** subject → member (`batch\nline`) → score (finishedAt ms). */
  readonly subjects = new Map<string, Map<string, { where: Where; score: number }>>();
  /** batch → its attempt log, in append order (JSON, as stored elsewhere). */
  readonly attempts = new Map<string, string[]>();
  /** batch → settings hash → its entry. */
  readonly runSettings = new Map<string, Map<string, RunSettingsEntry>>();
}

/** Options of {@link MemoryResultStore}. */
export interface MemoryResultStoreOptions extends ResultStoreOptions {
  /** The data to work on; a fresh, empty one by default. */
  readonly data?: MemoryStoreData;
}

/**
 * The result store in process memory, with the semantics of the Redis store (types.ts): for tests,
 * dry runs and single-process use. Every write happens synchronously, so it is atomic with respect to
 * other calls, and the finished rule is evaluated in the same step. Nothing survives the process.
 */
export class MemoryResultStore implements ResultStore {
  readonly data: MemoryStoreData;
  private readonly streamChunkSize: number;
  private readonly onBatchFinished: BatchFinishedHook | undefined;

  constructor(options: MemoryResultStoreOptions = {}) {
    this.data = options.data ?? new MemoryStoreData();
    this.streamChunkSize = Math.max(1, Math.floor(options.streamChunkSize ?? DEFAULT_STREAM_CHUNK_SIZE));
    this.onBatchFinished = options.onBatchFinished;
  }

  async put(record: ResultRecord): Promise<PutResult> {
    assertRecord(record);
    const result = this.write(record);
    if (result.finishedBatch) await this.onBatchFinished?.(record.batch);
    return result;
  }

  async putMany(records: readonly ResultRecord[]): Promise<PutManyResult> {
    for (const record of records) assertRecord(record);
    const finishedBatches = records.filter((record) => this.write(record).finishedBatch).map((r) => r.batch);
    for (const batch of finishedBatches) await this.onBatchFinished?.(batch);
    return { finishedBatch: finishedBatches.length > 0, finishedBatches };
  }

  /** The put script of the Redis store, in TypeScript: synchronous, hence atomic. */
  private write(record: ResultRecord): PutResult {
    const state = this.state(record.batch);
    const { line } = record;
    const member = `${record.batch}\n${line}`;
    const transactionId = record.transactionId ?? '';
    const subject = record.subject ?? '';
    const old = state.idx.get(line);
    if (old) {
      state.byStatus[old.status] -= 1;
      if (old.verdict !== null) state.byVerdict[old.verdict] -= 1;
      bump(state.failures, old.failure, -1);
      const owner = this.data.tx.get(old.transactionId);
      if (old.transactionId !== '' && old.transactionId !== transactionId && owner?.batch === record.batch && owner.line === line) {
        this.data.tx.delete(old.transactionId);
      }
      if (old.subject !== '' && old.subject !== subject) this.data.subjects.get(old.subject)?.delete(member);
    }
    state.records.set(line, JSON.stringify(record));
    const failure = failureKey(record);
    state.idx.set(line, { status: record.status, verdict: record.verdict, transactionId, subject, failure });
    state.byStatus[record.status] += 1;
    bump(state.failures, failure, 1);
    if (record.verdict !== null) state.byVerdict[record.verdict] += 1;
    if (transactionId !== '') this.data.tx.set(transactionId, { batch: record.batch, line });
    const now = Date.now();
    if (subject !== '') {
      const finished = Date.parse(record.finishedAt);
      const members = this.data.subjects.get(subject) ?? new Map<string, { where: Where; score: number }>();
      members.set(member, { where: { batch: record.batch, line }, score: Number.isFinite(finished) ? finished : now });
      this.data.subjects.set(subject, members);
    }
    state.maxRecordedLine = Math.max(state.maxRecordedLine, line);
    register(state, now);
    return { created: old === undefined, finishedBatch: finishIfDone(state) };
  }

  private state(batch: string): BatchState {
    let state = this.data.batches.get(batch);
    if (!state) {
      state = {
        manifest: null,
        producerDone: false,
        total: 0,
        maxLine: 0,
        maxRecordedLine: 0,
        finishedAt: null,
        records: new Map(),
        idx: new Map(),
        byStatus: zeros(RECORD_STATUSES),
        failures: new Map(),
        byVerdict: zeros(VERDICTS),
      };
      this.data.batches.set(batch, state);
    }
    return state;
  }

  private record(where: Where): ResultRecord | null {
    const json = this.data.batches.get(where.batch)?.records.get(where.line);
    return json === undefined ? null : parseRecord(json);
  }

  get(batch: string, line: number): Promise<ResultRecord | null> {
    return Promise.resolve(this.record({ batch, line }));
  }

  has(batch: string, lines: readonly number[]): Promise<boolean[]> {
    const idx = this.data.batches.get(batch)?.idx;
    return Promise.resolve(lines.map((line) => idx?.has(line) ?? false));
  }

  byTransactionId(transactionId: string): Promise<ResultRecord | null> {
    const where = transactionId === '' ? undefined : this.data.tx.get(transactionId);
    return Promise.resolve(where ? this.record(where) : null);
  }

  /** Oldest first (by finishedAt, ties by member as Redis orders a ZSET). */
  bySubject(subject: string, limit = DEFAULT_SUBJECT_LIMIT): Promise<ResultRecord[]> {
    const members = subject === '' || limit <= 0 ? undefined : this.data.subjects.get(subject);
    if (!members) return Promise.resolve([]);
    const ordered = [...members.entries()]
      .sort(([ma, a], [mb, b]) => a.score - b.score || compareBytes(ma, mb))
      .slice(0, limit);
    return Promise.resolve(ordered.map(([, { where }]) => this.record(where)).filter((r) => r !== null));
  }

  /** Line order, `streamChunkSize` lines at a time, picking up lines that arrive while it reads (as Redis). */
  async *stream(batch: string): AsyncGenerator<ResultRecord> {
    let next = 1;
    let bound = this.highestLine(batch);
    while (next <= bound) {
      const end = Math.min(bound, next + this.streamChunkSize - 1);
      // One turn per chunk, where Redis makes a round trip: writes made meanwhile land between chunks.
      const chunk = await Promise.resolve(this.chunk(batch, next, end));
      yield* chunk;
      next = end + 1;
      if (next > bound) bound = this.highestLine(batch);
    }
  }

  private chunk(batch: string, from: number, to: number): ResultRecord[] {
    const records: ResultRecord[] = [];
    for (let line = from; line <= to; line++) {
      const record = this.record({ batch, line });
      if (record) records.push(record);
    }
    return records;
  }

  private highestLine(batch: string): number {
    const state = this.data.batches.get(batch);
    return state ? Math.max(state.maxLine, state.maxRecordedLine) : 0;
  }

  beginBatch(batch: string, manifest: string | null): Promise<void> {
    const state = this.state(batch);
    register(state, Date.now());
    if (manifest !== null && manifest !== '') state.manifest = manifest;
    state.producerDone = false;
    return Promise.resolve();
  }

  async finishBatch(batch: string, counts: { total: number; maxLine: number }): Promise<BatchWrite> {
    const state = this.state(batch);
    state.producerDone = true;
    state.total = counts.total;
    state.maxLine = counts.maxLine;
    const finishedBatch = finishIfDone(state);
    if (finishedBatch) await this.onBatchFinished?.(batch);
    return { finishedBatch };
  }

  summary(batch: string): Promise<BatchSummary | null> {
    const state = this.data.batches.get(batch);
    if (state?.createdAt === undefined) return Promise.resolve(null);
    return Promise.resolve({
      batch,
      createdAt: state.createdAt,
      manifest: state.manifest,
      finishedAt: state.finishedAt,
      producerDone: state.producerDone,
      total: state.total,
      maxLine: Math.max(state.maxLine, state.maxRecordedLine),
      recorded: state.records.size,
      byStatus: { ...state.byStatus },
      byVerdict: { ...state.byVerdict },
      ...failuresOf(state.failures),
    });
  }

  appendAttempts(rows: readonly AttemptRow[]): Promise<void> {
    for (const row of rows) {
      const log = this.data.attempts.get(row.batch) ?? [];
      log.push(JSON.stringify(row));
      this.data.attempts.set(row.batch, log);
    }
    return Promise.resolve();
  }

  private attemptRows(batch: string): AttemptRow[] {
    return (this.data.attempts.get(batch) ?? []).map((json) => JSON.parse(json) as AttemptRow);
  }

  attemptsOf(batch: string, line: number): Promise<AttemptRow[]> {
    return Promise.resolve(this.attemptRows(batch).filter((row) => row.line === line));
  }

  async *streamAttempts(batch: string): AsyncGenerator<AttemptRow> {
    yield* await Promise.resolve(this.attemptRows(batch));
  }

  attemptByTransactionId(transactionId: string): Promise<AttemptRow | null> {
    if (transactionId === '') return Promise.resolve(null);
    let found: AttemptRow | null = null;
    for (const batch of this.data.attempts.keys()) {
      for (const row of this.attemptRows(batch)) if (row.transactionId === transactionId) found = row;
    }
    return Promise.resolve(found);
  }

  recordRunSettings(batch: string, settings: RunSettings, at: string): Promise<boolean> {
    const entry = runSettingsEntry(settings, at);
    const known = this.data.runSettings.get(batch) ?? new Map<string, RunSettingsEntry>();
    this.data.runSettings.set(batch, known);
    if (known.has(entry.hash)) return Promise.resolve(false);
    known.set(entry.hash, entry);
    return Promise.resolve(true);
  }

  runSettings(batch: string): Promise<RunSettingsEntry[]> {
    return Promise.resolve([...(this.data.runSettings.get(batch)?.values() ?? [])].sort(compareRunSettings));
  }

  forgetSubject(subject: string): Promise<EraseCounts> {
    if (subject === '') return Promise.resolve({ records: 0, attempts: 0 });
    let records = 0;
    for (const { where } of this.data.subjects.get(subject)?.values() ?? []) {
      if (this.remove(where)) records += 1;
    }
    this.data.subjects.delete(subject);
    let attempts = 0;
    for (const [batch, log] of this.data.attempts) {
      const kept = log.filter((json) => (JSON.parse(json) as AttemptRow).subject !== subject);
      attempts += log.length - kept.length;
      this.data.attempts.set(batch, kept);
    }
    return Promise.resolve({ records, attempts });
  }

  /** Removes one record with its counts and transaction-id entry (the subject entry is the caller's). */
  private remove(where: Where): boolean {
    const state = this.data.batches.get(where.batch);
    const old = state?.idx.get(where.line);
    if (!state || !old) return false;
    state.byStatus[old.status] -= 1;
    if (old.verdict !== null) state.byVerdict[old.verdict] -= 1;
    bump(state.failures, old.failure, -1);
    const owner = this.data.tx.get(old.transactionId);
    if (owner?.batch === where.batch && owner.line === where.line) this.data.tx.delete(old.transactionId);
    state.idx.delete(where.line);
    state.records.delete(where.line);
    return true;
  }

  purgeFinishedBefore(before: Date): Promise<PurgeCounts> {
    const counts = { batches: 0, records: 0, attempts: 0 };
    for (const [batch, state] of this.data.batches) {
      if (state.finishedAt === null || Date.parse(state.finishedAt) >= before.getTime()) continue;
      for (const [line, idx] of state.idx) {
        if (idx.subject !== '') this.data.subjects.get(idx.subject)?.delete(`${batch}\n${line}`);
        this.remove({ batch, line });
        counts.records += 1;
      }
      counts.attempts += this.data.attempts.get(batch)?.length ?? 0;
      this.data.attempts.delete(batch);
      this.data.runSettings.delete(batch);
      this.data.batches.delete(batch);
      counts.batches += 1;
    }
    return Promise.resolve(counts);
  }

  keepDistribution(batch: string, distribution: BatchDistribution): Promise<void> {
    const state = this.data.batches.get(batch);
    if (state?.createdAt !== undefined) state.distribution = JSON.stringify(distribution);
    return Promise.resolve();
  }

  distribution(batch: string): Promise<BatchDistribution | null> {
    const kept = this.data.batches.get(batch)?.distribution;
    return Promise.resolve(kept === undefined ? null : (JSON.parse(kept) as BatchDistribution));
  }

  /** Newest first (by createdAt, ties by id descending, as Redis ZREVRANGE). */
  listBatches(limit = DEFAULT_BATCH_LIST_LIMIT): Promise<string[]> {
    if (limit <= 0) return Promise.resolve([]);
    const registered: [string, number][] = [];
    for (const [batch, state] of this.data.batches) if (state.createdMs !== undefined) registered.push([batch, state.createdMs]);
    registered.sort(([a, ma], [b, mb]) => mb - ma || compareBytes(b, a));
    return Promise.resolve(registered.slice(0, limit).map(([batch]) => batch));
  }
}

/** Keeps the first createdAt. */
function register(state: BatchState, nowMs: number): void {
  if (state.createdAt !== undefined) return;
  state.createdAt = new Date(nowMs).toISOString();
  state.createdMs = nowMs;
}

/** The finished rule, first time only (stamps finishedAt): true for the one write that finished the batch. */
function finishIfDone(state: BatchState): boolean {
  if (state.finishedAt !== null) return false;
  if (!isBatchFinished({ producerDone: state.producerDone, total: state.total, recorded: state.records.size })) return false;
  state.finishedAt = new Date().toISOString();
  return true;
}

function zeros<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}

/** Byte order of the UTF-8 encodings, as Redis compares ZSET members. */
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
