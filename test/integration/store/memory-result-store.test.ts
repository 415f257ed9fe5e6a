/** The in-memory result store passes the store contract (./conformance.ts). */
import { MemoryResultStore, MemoryStoreData } from '../../helpers/memory-result-store.js';
import type { ResultStoreOptions } from '../../../src/store/types.js';
import { describeResultStore } from './conformance.js';

describeResultStore('MemoryResultStore', () => {
  const data = new MemoryStoreData();
  return {
    open: (options: ResultStoreOptions = {}) => new MemoryResultStore({ ...options, data }),
    close: () => Promise.resolve(),
  };
});
