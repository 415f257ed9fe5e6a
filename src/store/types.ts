import type { RecordStatus, ResultRecord, Verdict } from '../checks/types.js';

/** What is known of a batch: what the producer counted and what the records say. */
export interface BatchSummary {
  readonly batch: string;
  /** ISO 8601, first enqueue. */
  readonly createdAt: string;
  /** The manifest (path or folder) it came from, as given. */
  readonly manifest: string | null;
  /** ISO 8601, when the last line got its record (first time the batch finished); null while running. */
  readonly finishedAt: string | null;
  /** True once the producer has read the whole manifest (then `total` is final). */
  readonly producerDone: boolean;
  /** Manifest lines that will get a record (valid + invalid), known once `producerDone`. */
  readonly total: number;
  /** Highest manifest line number seen. */
  readonly maxLine: number;
  /** Records stored so far. */
  readonly recorded: number;
  readonly byStatus: Readonly<Record<RecordStatus, number>>;
  readonly byVerdict: Readonly<Record<Verdict, number>>;
  /** Vendor calls of the batch sent and never answered (timeout, reset): possibly billed. Absent when 0. */
  readonly possiblyBilled?: number;
}

/**
 * The record of truth. One record per (batch, line): `put` replaces, never duplicates, and keeps the
 * counts and indexes right when it replaces. Implemented on Redis (src/store/redis-result-store.ts).
 */
export interface ResultStore {
  /** Stores (or replaces) the record of (record.batch, record.line) and indexes it. */
  put(record: ResultRecord): Promise<void>;
  /** Stores many records in one round trip (invalid manifest lines). */
  putMany(records: readonly ResultRecord[]): Promise<void>;
  get(batch: string, line: number): Promise<ResultRecord | null>;
  /** For each line, whether it already has a record (one round trip). */
  has(batch: string, lines: readonly number[]): Promise<boolean[]>;
  byTransactionId(transactionId: string): Promise<ResultRecord | null>;
  /** Every record of a subject, across batches, oldest first. */
  bySubject(subject: string, limit?: number): Promise<ResultRecord[]>;
  /** The batch's records in line order, fetched in chunks (flat memory for any size). */
  stream(batch: string): AsyncIterable<ResultRecord>;
  /** Registers the batch on first enqueue (keeps the first createdAt). */
  beginBatch(batch: string, manifest: string | null): Promise<void>;
  /** Called when the producer has read the whole manifest. */
  finishBatch(batch: string, counts: { total: number; maxLine: number }): Promise<void>;
  summary(batch: string): Promise<BatchSummary | null>;
  /** Batch ids, newest first. */
  listBatches(limit?: number): Promise<string[]>;
}
