/**
 * A finished batch's canary report (`--canary`): how its canary lines agree with their labels, each
 * canary's score against its previous run (the newest earlier finished batch with canary lines), and
 * the canary alert: a canary whose verdict flipped, or the canary scores' mean moved by more than the
 * batch's threshold (default 0.1).
 */
import { isCanary, type ResultRecord, type Verdict } from '../checks/types.js';
import type { ResultStore } from '../store/types.js';
import { DEFAULT_CANARY_THRESHOLD } from './canary-set.js';
import { finishedDistribution } from './distribution.js';

/** One canary of the batch. */
export interface CanaryRow {
  readonly line: number;
  readonly check: string | null;
  readonly subject: string | null;
  readonly ref: string | null;
  readonly expect: Verdict;
  /** Null when the line got no verdict (failed, rejected). */
  readonly verdict: Verdict | null;
  readonly score: number | null;
  readonly agrees: boolean;
  /** The same canary (check and subject, else ref) in the previous run; null when it was not there. */
  readonly previous: { readonly line: number; readonly verdict: Verdict | null; readonly score: number | null } | null;
  /** score − previous score, when both have one. */
  readonly delta: number | null;
  /** Both runs have a verdict and they differ. */
  readonly flipped: boolean;
}

export interface CanaryReport {
  readonly lines: number;
  readonly agreed: number;
  /** agreed / lines (0–1, 4 decimals). */
  readonly agreement: number;
  /** The previous run: the newest earlier finished batch with canary lines; null for the first. */
  readonly against: string | null;
  readonly threshold: number;
  /** Mean score of the canaries scored in both runs, now and then; null when none is. */
  readonly mean: number | null;
  readonly previousMean: number | null;
  readonly meanShift: number | null;
  readonly flips: number;
  /** A verdict flipped, or |meanShift| > threshold. */
  readonly alert: boolean;
  readonly rows: readonly CanaryRow[];
}

/** Earlier batches looked at for the previous run. */
const LOOK_BACK = 200;

/** The canary report of a finished batch; null when it has no canary lines (or is not finished). */
export async function canaryReport(store: ResultStore, batch: string): Promise<CanaryReport | null> {
  const now = await canaryRecords(store, batch);
  if (now === null || now.length === 0) return null;
  const against = await previousRun(store, batch);
  const then = against === null ? [] : ((await canaryRecords(store, against)) ?? []);
  const byKey = new Map(then.map((r) => [keyOf(r), r]));
  const rows: CanaryRow[] = now.map((r) => {
    const p = byKey.get(keyOf(r)) ?? null;
    const score = typeof r.score === 'number' ? r.score : null;
    const pScore = p !== null && typeof p.score === 'number' ? p.score : null;
    return {
      line: r.line,
      check: r.check,
      subject: r.subject,
      ref: r.ref ?? null,
      expect: r.canary!.expect,
      verdict: r.verdict,
      score,
      agrees: r.verdict === r.canary!.expect,
      previous: p === null ? null : { line: p.line, verdict: p.verdict, score: pScore },
      delta: score !== null && pScore !== null ? round(score - pScore) : null,
      flipped: p !== null && p.verdict !== null && r.verdict !== null && p.verdict !== r.verdict,
    };
  });
  const paired = rows.filter((r) => r.delta !== null);
  const mean = paired.length === 0 ? null : round(avg(paired.map((r) => r.score!)));
  const previousMean = paired.length === 0 ? null : round(avg(paired.map((r) => r.previous!.score!)));
  const meanShift = mean === null || previousMean === null ? null : round(mean - previousMean);
  const threshold = now[0]!.canary!.threshold ?? DEFAULT_CANARY_THRESHOLD;
  const flips = rows.filter((r) => r.flipped).length;
  const agreed = rows.filter((r) => r.agrees).length;
  return {
    lines: rows.length,
    agreed,
    agreement: Math.round((agreed / rows.length) * 1e4) / 1e4,
    against,
    threshold,
    mean,
    previousMean,
    meanShift,
    flips,
    // A shift of exactly the threshold is within it; a rounding hair above is not an alert.
    alert: flips > 0 || (meanShift !== null && Math.abs(meanShift) > threshold + 1e-9),
    rows,
  };
}

/** The batch's canary records, line order (their lines are kept with its distribution); null when not finished. */
async function canaryRecords(store: ResultStore, batch: string): Promise<ResultRecord[] | null> {
  const dist = await finishedDistribution(store, batch);
  if (dist === null) return null;
  if (dist.canaryLines === undefined) return [];
  const out: ResultRecord[] = [];
  for (let line = dist.canaryLines.from; line <= dist.canaryLines.to; line++) {
    const r = await store.get(batch, line);
    if (r !== null && isCanary(r)) out.push(r);
  }
  return out;
}

/** The newest finished batch created before `batch` that has canary lines (batches are listed newest first). */
async function previousRun(store: ResultStore, batch: string): Promise<string | null> {
  const createdAt = (await store.summary(batch))?.createdAt ?? '';
  for (const id of await store.listBatches(LOOK_BACK + 1)) {
    if (id === batch) continue;
    const s = await store.summary(id);
    if (s === null || !(s.createdAt < createdAt || (s.createdAt === createdAt && id < batch))) continue;
    if ((await finishedDistribution(store, id))?.canaryLines !== undefined) return id;
  }
  return null;
}

const keyOf = (r: ResultRecord): string => `${r.check ?? ''}\u0000${r.subject ?? r.ref ?? String(r.line)}`;
const avg = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const round = (x: number): number => Math.round(x * 1e6) / 1e6;
