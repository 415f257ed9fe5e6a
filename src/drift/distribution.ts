/**
 * A batch's score distributions per check (its customers' lines: canary lines left out), computed
 * from its records once it finished and kept beside its summary by the store.
 */
import { isCanary, type ResultRecord, type Verdict } from '../checks/types.js';
import { isBatchFinished, type BatchDistribution, type BatchSummary, type CheckDistribution, type ResultStore } from '../store/types.js';
import { binOf } from './stats.js';
import { SCORE_BINS } from '../store/types.js';

/** What the distribution depends on, as far as the summary tells: a new or replaced record moves it. */
export function distributionSignature(summary: BatchSummary): string {
  return JSON.stringify([summary.recorded, summary.byStatus, summary.byVerdict, summary.finishedAt]);
}

/** Whether a record is one drift counts: a customer's (not a canary's) scored record. */
export function isDriftRecord(record: ResultRecord): record is ResultRecord & { check: string; score: number } {
  return record.check !== null && typeof record.score === 'number' && Number.isFinite(record.score) && !isCanary(record);
}

/** Counts a batch's records into per-check histograms and verdict counts. */
export async function computeDistribution(records: AsyncIterable<ResultRecord>, signature: string, now = new Date()): Promise<BatchDistribution> {
  const byCheck: Record<string, { scored: number; bins: number[]; verdicts: Partial<Record<Verdict, number>> }> = {};
  let canaryFrom = Infinity;
  let canaryTo = 0;
  for await (const record of records) {
    if (isCanary(record)) {
      canaryFrom = Math.min(canaryFrom, record.line);
      canaryTo = Math.max(canaryTo, record.line);
      continue;
    }
    if (record.check === null) continue;
    const entry = (byCheck[record.check] ??= { scored: 0, bins: new Array<number>(SCORE_BINS).fill(0), verdicts: {} });
    if (record.verdict !== null) entry.verdicts[record.verdict] = (entry.verdicts[record.verdict] ?? 0) + 1;
    if (isDriftRecord(record)) {
      entry.scored++;
      entry.bins[binOf(record.score)]! += 1;
    }
  }
  return {
    signature,
    computedAt: now.toISOString(),
    byCheck,
    ...(canaryTo > 0 ? { canaryLines: { from: canaryFrom, to: canaryTo } } : {}),
  };
}

/**
 * The finished batch's distributions: the kept ones while they still fit its summary, else counted
 * from its records and kept. Null for a batch that does not exist or has not finished.
 */
export async function finishedDistribution(store: ResultStore, batch: string): Promise<BatchDistribution | null> {
  const summary = await store.summary(batch);
  if (summary === null || !isBatchFinished(summary)) return null;
  const signature = distributionSignature(summary);
  const kept = await store.distribution(batch);
  if (kept !== null && kept.signature === signature) return kept;
  const computed = await computeDistribution(store.stream(batch), signature);
  await store.keepDistribution(batch, computed);
  return computed;
}

/** Verdict shares of a check's distribution (0–1, 4 decimals), over the records with a verdict. */
export function verdictRates(d: CheckDistribution): Partial<Record<Verdict, number>> {
  const total = Object.values(d.verdicts).reduce((a, b) => a + (b ?? 0), 0);
  return Object.fromEntries(Object.entries(d.verdicts).map(([v, n]) => [v, total === 0 ? 0 : Math.round(((n ?? 0) / total) * 1e4) / 1e4]));
}
