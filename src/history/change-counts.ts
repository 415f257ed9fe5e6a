/**
 * The change counts of a finished batch, computed once and kept in Redis: `status` and the
 * completion webhook show them without re-reading every subject's history. The entry is keyed by
 * the batch's counts, so a retry that changes a record recomputes them.
 */
import type { Redis } from '../redis/client.js';
import { changeCountsKey } from '../redis/keys.js';
import type { CheckRegistry } from '../checks/registry.js';
import type { BatchSummary, ResultStore } from '../store/types.js';
import { countChanges, type ChangeCounts } from './changes.js';

const key = changeCountsKey;

/** What the counts depend on, as far as the summary tells: any new or replaced record moves it. */
function signature(summary: BatchSummary): string {
  return JSON.stringify([summary.recorded, summary.byStatus, summary.byVerdict, summary.finishedAt]);
}

/** Lines up to which a screen (`status`, the API) counts a batch's changes itself; above, it shows the counts once kept. */
export const COUNT_ON_READ_MAX_LINES = 20_000;

/**
 * The batch's change counts (default baseline), from the cache when it still fits the summary, else
 * counted (and kept) — unless the batch has more than `countUpTo` records: then undefined, and the
 * counts come from the completion webhook's worker or `rescreen changes`, which keep them.
 */
export async function finishedBatchChanges(
  redis: Redis,
  prefix: string,
  store: ResultStore,
  checks: CheckRegistry,
  summary: BatchSummary,
  countUpTo = Infinity,
): Promise<ChangeCounts | undefined> {
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
  if (summary.recorded > countUpTo) return undefined;
  const counts = await countChanges(store, checks, summary.batch);
  await keepChangeCounts(redis, prefix, summary, counts);
  return counts;
}

/** Keeps counts made elsewhere (a full `rescreen changes` with the default baseline) for the screens. */
export async function keepChangeCounts(redis: Redis, prefix: string, summary: BatchSummary, counts: ChangeCounts): Promise<void> {
  await redis.hset(key(prefix), summary.batch, JSON.stringify({ sig: signature(summary), counts }));
}
