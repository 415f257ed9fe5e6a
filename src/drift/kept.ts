/**
 * Drift reports kept in Redis for the screens (`status`, the completion webhook): recomputed only
 * when the batch, or a batch it was compared with, changed since (their kept distributions'
 * signatures are the key).
 */
import type { Redis } from '../redis/client.js';
import { driftReportsKey } from '../redis/keys.js';
import type { BatchSummary, ResultStore } from '../store/types.js';
import { distributionSignature } from './distribution.js';
import { driftReport, summarizeDrift, type DriftSummary } from './report.js';

/**
 * The drift summary of a finished batch against each check's previous batch, from the kept report
 * while it still fits, else computed (and kept) — unless the batch has more than `countUpTo`
 * records: then undefined (the webhook's worker and `rescreen drift` compute it for any size).
 */
export async function finishedBatchDrift(redis: Redis, prefix: string, store: ResultStore, summary: BatchSummary, countUpTo = Infinity): Promise<DriftSummary | undefined> {
  const cached = await redis.hget(driftReportsKey(prefix), summary.batch);
  if (cached !== null) {
    try {
      const entry = JSON.parse(cached) as { sig: string; against: string[]; againstSigs: string[]; drift: DriftSummary };
      if (entry.sig === distributionSignature(summary) && (await signaturesOf(store, entry.against)).join('\n') === entry.againstSigs.join('\n')) return entry.drift;
    } catch {
      // A damaged entry is recomputed.
    }
  }
  if (summary.recorded > countUpTo) return undefined;
  const report = await driftReport(store, summary.batch);
  if (report === null) return undefined;
  const drift = summarizeDrift(report);
  const against = [...new Set([...report.checks.flatMap((c) => (c.against === null ? [] : [c.against])), ...(report.canary?.against ? [report.canary.against] : [])])];
  const entry = { sig: distributionSignature(summary), against, againstSigs: await signaturesOf(store, against), drift };
  await redis.hset(driftReportsKey(prefix), summary.batch, JSON.stringify(entry));
  return drift;
}

async function signaturesOf(store: ResultStore, batches: readonly string[]): Promise<string[]> {
  return Promise.all(
    batches.map(async (b) => {
      const s = await store.summary(b);
      return s === null ? 'gone' : distributionSignature(s);
    }),
  );
}
