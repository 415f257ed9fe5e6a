/** The in-memory ResultStore (./memory-result-store.ts), counting puts, for unit tests of the job runner. */
import type { ResultRecord } from '../../src/checks/types.js';
import { MemoryResultStore } from './memory-result-store.js';
import type { PutResult } from '../../src/store/types.js';

export class MemoryStore extends MemoryResultStore {
  /** Calls of `put`. */
  puts = 0;

  override put(record: ResultRecord): Promise<PutResult> {
    this.puts += 1;
    return super.put(record);
  }
}
