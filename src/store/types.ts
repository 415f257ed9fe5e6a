/**
 * The result store contract. Every backend (Redis in ./redis-result-store.ts, PostgreSQL in
 * ./postgres/, the tests' in-memory one in test/helpers/memory-result-store.ts, and any later one)
 * implements {@link ResultStore} with exactly these semantics, and proves it by passing the
 * conformance suite (test/integration/store/conformance.ts, `describeResultStore`).
 */
import type { RecordStatus, ResultRecord, StoppedBy, Verdict } from '../checks/types.js';
import type { RunSettings, RunSettingsEntry } from './run-settings.js';

export type { RunSettings, RunSettingsEntry } from './run-settings.js';

/** Failed records of one cause and one limit that ended their retries (`status` shows them). */
export interface FailureCount {
  /** The records' `error.code`, as text (OOTO's `5` is `'5'`). */
  readonly code: string;
  /** The records' `stoppedBy`; null when they have none (final by nature). */
  readonly stoppedBy: StoppedBy | null;
  readonly count: number;
}

/** What is known of a batch: what the producer counted and what the records say. */
export interface BatchSummary {
  readonly batch: string;
  /** ISO 8601, first enqueue (or first put, whichever came first); never changes afterwards. */
  readonly createdAt: string;
  /** The manifest (path or folder) it came from, as given to the latest `beginBatch` that gave one. */
  readonly manifest: string | null;
  /** ISO 8601, when the batch first finished (see {@link isBatchFinished}); null until then, and never cleared. */
  readonly finishedAt: string | null;
  /** True once the producer has read the whole manifest (then `total` is final); false again while a later enqueue reads. */
  readonly producerDone: boolean;
  /** Manifest lines that will get a record (valid + invalid), known once `producerDone`. */
  readonly total: number;
  /** Highest manifest line number seen, by the producer or by a put. */
  readonly maxLine: number;
  /** Records stored so far: distinct lines, so a replacement does not add one. */
  readonly recorded: number;
  /** Records per status; every status is present (0 when none); sums to `recorded`. */
  readonly byStatus: Readonly<Record<RecordStatus, number>>;
  /** Records per verdict (records with a verdict only); every verdict is present (0 when none). */
  readonly byVerdict: Readonly<Record<Verdict, number>>;
  /** Vendor calls of the batch sent and never answered (timeout, reset): possibly billed. Absent when 0. */
  readonly possiblyBilled?: number;
  /**
   * The current `failed` records that carry an error, by (code, stoppedBy), most first (ties by code,
   * then stoppedBy); they move with a replacement or an erasure as `byStatus` does. Absent when none.
   */
  readonly failures?: FailureCount[];
}

/** Bins of every score histogram: {@link SCORE_BINS} of equal width over [0, 1], the last one closed. */
export const SCORE_BINS = 20;

/** One check's scores in one batch (canary lines left out): what drift compares. */
export interface CheckDistribution {
  /** Records of the check with a score. */
  readonly scored: number;
  /** Scores per bin: `bins[i]` counts scores in [i/20, (i+1)/20) (the last bin includes 1); length {@link SCORE_BINS}. */
  readonly bins: readonly number[];
  /** Records of the check with a verdict, per verdict (verdicts the check never gave are absent). */
  readonly verdicts: Readonly<Partial<Record<Verdict, number>>>;
}

/**
 * A batch's score distributions per check, computed from its records once it finished (src/drift)
 * and kept beside its summary. The store keeps it as given (a JSON round trip) and drops it with the
 * batch; it does not compute it.
 */
export interface BatchDistribution {
  /** What the batch's counts were when it was computed: a later retry that changes them makes it stale. */
  readonly signature: string;
  /** ISO 8601. */
  readonly computedAt: string;
  readonly byCheck: Readonly<Record<string, CheckDistribution>>;
  /** The batch's canary lines (`--canary`), when it had some: their first and last line. */
  readonly canaryLines?: { readonly from: number; readonly to: number };
}

/**
 * The one "batch finished" rule: the producer has read the whole manifest and every line it counted
 * has a record. Backends evaluate it atomically with the write that may make it true.
 */
export function isBatchFinished(counts: Pick<BatchSummary, 'producerDone' | 'total' | 'recorded'>): boolean {
  return counts.producerDone && counts.total >= 0 && counts.recorded >= counts.total;
}

/** What a write that can finish a batch tells its caller. */
export interface BatchWrite {
  /**
   * True for exactly one call per batch, ever: the `put`, `putMany` or `finishBatch` after which
   * {@link isBatchFinished} first held. Every later write (a retry replacing a record, a second
   * enqueue and its `finishBatch`) answers false, whichever process or store handle made it, and
   * however many writes race for the last line. The caller that gets true announces the batch.
   */
  readonly finishedBatch: boolean;
}

/** What `put` tells its caller. */
export interface PutResult extends BatchWrite {
  /** True when (batch, line) had no record before; false when this put replaced one. */
  readonly created: boolean;
}

/** What `putMany` tells its caller. */
export interface PutManyResult extends BatchWrite {
  /** The batches this call finished (at most one entry per batch); `finishedBatch` is `finishedBatches.length > 0`. */
  readonly finishedBatches: readonly string[];
}

/** Called with a batch id by the store when one of its writes finished that batch. */
export type BatchFinishedHook = (batch: string) => Promise<void>;

/** Options every backend accepts. */
export interface ResultStoreOptions {
  /** Lines fetched per round trip by `stream`. Default {@link DEFAULT_STREAM_CHUNK_SIZE}. */
  readonly streamChunkSize?: number;
  /**
   * Called once per batch, by the store handle whose write finished it (the same write that returns
   * `finishedBatch: true`), e.g. to send the completion webhook. Awaited before that write resolves;
   * an error propagates to the writer, and the batch stays finished (the store does not call again).
   */
  readonly onBatchFinished?: BatchFinishedHook;
}

/**
 * One vendor call that got an HTTP answer: a row of the append-only attempt log. A retry of the
 * line adds rows; nothing replaces or removes one (except `forgetSubject` and `purgeFinishedBefore`).
 */
export interface AttemptRow {
  readonly batch: string;
  readonly line: number;
  readonly subject: string | null;
  readonly check: string | null;
  readonly vendor: string;
  /** The BullMQ attempt (1-based) of the job that made the call. */
  readonly attempt: number;
  /** The vendor's id for the call (OOTO body `transactionId`, GLAIR `Request-Id`), when it gave one. */
  readonly transactionId: string | null;
  readonly httpStatus: number;
  /** The taxonomy / vendor engine code of a refused call (e.g. OOTO's `result.code`); null for a usable answer. */
  readonly code: string | number | null;
  readonly durationMs: number;
  /** ISO 8601, when the answer arrived. */
  readonly at: string;
  /** `host:pid` of the worker process. */
  readonly worker: string;
  /**
   * The origin (scheme, host, port) of the endpoint that answered, e.g. `https://api.ooto.ai` or
   * `http://127.0.0.1:4010`: never a path, query string or credential. Absent in rows written before it existed.
   */
  readonly endpoint?: string | null;
}

/** What `forgetSubject` erased. */
export interface EraseCounts {
  readonly records: number;
  readonly attempts: number;
}

/** What `purgeFinishedBefore` dropped. */
export interface PurgeCounts extends EraseCounts {
  readonly batches: number;
}

/** The attempt log and erasure: every backend implements them alongside {@link ResultStore}'s records. */
export interface AttemptLog {
  /** Appends rows to the log (one round trip); never replaces an earlier row. */
  appendAttempts(rows: readonly AttemptRow[]): Promise<void>;
  /** The rows of one line, oldest first. */
  attemptsOf(batch: string, line: number): Promise<AttemptRow[]>;
  /** Every row of a batch in the order they were appended, flat memory. */
  streamAttempts(batch: string): AsyncIterable<AttemptRow>;
  /** The latest row that carries this transaction id, or null (the record is `get(row.batch, row.line)`). */
  attemptByTransactionId(transactionId: string): Promise<AttemptRow | null>;
  /** Erases every record and attempt row of a subject (counts move as for a removed record). */
  forgetSubject(subject: string): Promise<EraseCounts>;
  /** Drops whole batches (records, attempts, run settings, indexes, summary) whose `finishedAt` is before `before`. */
  purgeFinishedBefore(before: Date): Promise<PurgeCounts>;
  /**
   * Records that calls of `batch` were answered under `settings` (what the worker that made them
   * had). Stored once per (batch, hash of the settings: ./run-settings.ts `runSettingsHash`): a second call with equal
   * settings, from any process, changes nothing (the first `at` stays). True when this call stored them.
   * A batch need not exist yet; `purgeFinishedBefore` drops them with their batch, `forgetSubject` does not.
   */
  recordRunSettings(batch: string, settings: RunSettings, at: string): Promise<boolean>;
  /** The batch's run settings, oldest `firstSeenAt` first (ties by hash); empty for none. */
  runSettings(batch: string): Promise<RunSettingsEntry[]>;
}

/** Default `limit` of `bySubject`. */
export const DEFAULT_SUBJECT_LIMIT = 1_000;
/** Default `limit` of `listBatches`. */
export const DEFAULT_BATCH_LIST_LIMIT = 100;
/** Default `streamChunkSize`. */
export const DEFAULT_STREAM_CHUNK_SIZE = 500;

/**
 * The record of truth.
 *
 * - **One record per (batch, line).** `put` stores the record exactly as given (a JSON round trip:
 *   `undefined` fields drop out) and replaces any earlier record of that line; it never adds a
 *   second one. Concurrent puts of the same line, from any number of processes, leave exactly one
 *   of the records put and counts as if only that one had been put.
 * - **Counts move with a replacement.** `byStatus` / `byVerdict` / `failures` count the current
 *   record of each line: replacing a record takes its old status, verdict and failure out and puts
 *   the new ones in.
 * - **Indexes.** `byTransactionId` finds the record that last carried that id, as long as it still
 *   carries it (a replacement with another id, or none, drops the old id); `bySubject` lists the
 *   current records with that subject, across batches, oldest `finishedAt` first (ties in
 *   (batch, line-as-text) order), and follows a subject change on replace. An empty string id or
 *   subject is treated like `null`: not indexed, never found.
 * - **Batches.** A batch exists from its first `beginBatch` or `put`; `beginBatch` keeps the first
 *   `createdAt`; `listBatches` is newest `createdAt` first.
 * - **Finished exactly once.** `put`, `putMany` and `finishBatch` return whether that call finished
 *   the batch ({@link BatchWrite}); exactly one call per batch ever returns true.
 * - Records are validated (positive integer line, non-empty batch without newline, known status);
 *   an invalid record is a programming error (TypeError) and nothing of that call is written.
 */
export interface ResultStore extends AttemptLog {
  /** Stores (or replaces) the record of (record.batch, record.line) and indexes it, atomically. */
  put(record: ResultRecord): Promise<PutResult>;
  /**
   * Stores many records in one round trip (invalid manifest lines): the same as a `put` of each, in
   * order (each put is atomic; the call as a whole need not be).
   */
  putMany(records: readonly ResultRecord[]): Promise<PutManyResult>;
  /** The current record of (batch, line), or null. */
  get(batch: string, line: number): Promise<ResultRecord | null>;
  /** For each line, whether it already has a record (one round trip). */
  has(batch: string, lines: readonly number[]): Promise<boolean[]>;
  /** The record that last carried this transaction id and still carries it, or null. */
  byTransactionId(transactionId: string): Promise<ResultRecord | null>;
  /** Every record of a subject, across batches, oldest first; at most `limit` (default {@link DEFAULT_SUBJECT_LIMIT}). */
  bySubject(subject: string, limit?: number): Promise<ResultRecord[]>;
  /**
   * The batch's records in line order, fetched `streamChunkSize` lines at a time (flat memory for any
   * size), skipping lines with no record. Works while the batch runs: when it reaches the highest line
   * known at the start it looks again, and goes on if records with higher lines arrived meanwhile.
   * An unknown batch yields nothing.
   */
  stream(batch: string): AsyncIterable<ResultRecord>;
  /**
   * Registers the batch on an enqueue: keeps the first createdAt, records the manifest (when not null
   * or empty), and marks the producer as reading (`producerDone` false) until `finishBatch`.
   */
  beginBatch(batch: string, manifest: string | null): Promise<void>;
  /** The producer has read the whole manifest: sets `producerDone`, `total` and `maxLine`; may finish the batch. */
  finishBatch(batch: string, counts: { total: number; maxLine: number }): Promise<BatchWrite>;
  /** The batch's summary; null for a batch that was never begun nor put to. */
  summary(batch: string): Promise<BatchSummary | null>;
  /**
   * Keeps the batch's score distributions (src/drift computes them), replacing any kept before; a
   * batch that does not exist keeps nothing. `purgeFinishedBefore` drops it with the batch.
   */
  keepDistribution(batch: string, distribution: BatchDistribution): Promise<void>;
  /** The distributions last kept for the batch, as given; null when none were. */
  distribution(batch: string): Promise<BatchDistribution | null>;
  /** Batch ids, newest createdAt first; at most `limit` (default {@link DEFAULT_BATCH_LIST_LIMIT}). */
  listBatches(limit?: number): Promise<string[]>;
}
