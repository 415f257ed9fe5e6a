/**
 * The change counts of a finished batch, computed once and kept in Redis: `status` and the
 * completion webhook show them without re-reading every subject's history. The entry is keyed by
 * the batch's counts, so a retry that changes a record recomputes them.
 */
import type { Redis } from 'ioredis';
import type { CheckRegistry } from '../checks/registry.js';
import type { BatchSummary, ResultStore } from '../store/types.js';
import { countChanges, type ChangeCounts } from './changes.js';

function key(prefix: string): string {
  return `${prefix}:changes:counts`;
}

/** What the counts depend on, as far as the summary tells: any new or replaced record moves it. */
function signature(summary: BatchSummary): string {
  return JSON.stringify([summary.recorded, summary.byStatus, summary.byVerdict, summary.finishedAt]);
}

/** The batch's change counts (default baseline), from the cache when it still fits the summary. */
export async function finishedBatchChanges(
  redis: Redis,
  prefix: string,
  store: ResultStore,
  checks: CheckRegistry,
  summary: BatchSummary,
): Promise<ChangeCounts> {
  const sig = signature(summary);
  const cached = await redis.hget(key(prefix), summary.batch);
  if (cached !== null) {
    try {
      const entry = JSON.parse(cached) as { sig: string; counts: ChangeCounts };
      if (entry.sig === sig) return entry.counts;
    } catch {
      // A damaged entry is recomputed.
    }
  }
  const counts = await countChanges(store, checks, summary.batch);
  await redis.hset(key(prefix), summary.batch, JSON.stringify({ sig, counts }));
  return counts;
}
