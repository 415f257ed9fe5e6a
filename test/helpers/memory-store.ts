/** An in-memory ResultStore for unit tests of the job runner (the real one is Redis-backed). */
import type { ResultRecord } from '../../src/checks/types.js';
import type { BatchSummary, ResultStore } from '../../src/store/types.js';

export class MemoryStore implements ResultStore {
  readonly records = new Map<string, ResultRecord>();
  puts = 0;
  private key = (batch: string, line: number) => `${batch}\n${line}`;

  put(record: ResultRecord): Promise<void> {
    this.puts += 1;
    this.records.set(this.key(record.batch, record.line), record);
    return Promise.resolve();
  }
  async putMany(records: readonly ResultRecord[]): Promise<void> {
    for (const r of records) await this.put(r);
  }
  get(batch: string, line: number): Promise<ResultRecord | null> {
    return Promise.resolve(this.records.get(this.key(batch, line)) ?? null);
  }
  has(batch: string, lines: readonly number[]): Promise<boolean[]> {
    return Promise.resolve(lines.map((l) => this.records.has(this.key(batch, l))));
  }
  byTransactionId(transactionId: string): Promise<ResultRecord | null> {
    return Promise.resolve([...this.records.values()].find((r) => r.transactionId === transactionId) ?? null);
  }
  bySubject(subject: string): Promise<ResultRecord[]> {
    return Promise.resolve([...this.records.values()].filter((r) => r.subject === subject));
  }
  async *stream(batch: string): AsyncIterable<ResultRecord> {
    const rows = [...this.records.values()].filter((r) => r.batch === batch).sort((a, b) => a.line - b.line);
    for (const r of rows) yield await Promise.resolve(r);
  }
  beginBatch(): Promise<void> {
    return Promise.resolve();
  }
  finishBatch(): Promise<void> {
    return Promise.resolve();
  }
  summary(): Promise<BatchSummary | null> {
    return Promise.resolve(null);
  }
  listBatches(): Promise<string[]> {
    return Promise.resolve([]);
  }
}
