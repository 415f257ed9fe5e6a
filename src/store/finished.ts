import type { BatchSummary } from './types.js';

/**
 * The one "batch finished" rule: the producer has read the whole manifest and every line has its
 * record. (The store's scripts apply the same rule when they stamp `finishedAt` once.)
 */
export function isFinished(summary: Pick<BatchSummary, 'producerDone' | 'recorded' | 'total'>): boolean {
  return summary.producerDone && summary.recorded >= summary.total;
}
