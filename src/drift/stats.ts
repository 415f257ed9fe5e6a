/**
 * The statistics of score drift, over the fixed bins of the store's distributions
 * ({@link SCORE_BINS} over [0, 1]): the population stability index and the two-sample
 * Kolmogorov–Smirnov statistic, with their conventional reading.
 */
import { SCORE_BINS } from '../store/types.js';

/** Fewer scores than this on either side: drift is "too few scores", not a number. */
export const MIN_DRIFT_SCORES = 30;

/** PSI below this reads "stable"; from it to {@link PSI_SHIFT} "moderate"; above that "shift". */
export const PSI_MODERATE = 0.1;
export const PSI_SHIFT = 0.25;

/** How a PSI reads, by the usual rule of thumb (credit scoring's, used for model monitoring). */
export type DriftReading = 'stable' | 'moderate' | 'shift' | 'too few scores';

/** The rule, in words, for every output that shows a PSI. */
export const PSI_RULE = `PSI < ${PSI_MODERATE} stable, ${PSI_MODERATE}–${PSI_SHIFT} moderate, > ${PSI_SHIFT} shift`;

/** A bin share is never taken below this: an empty bin would make the PSI infinite. */
const MIN_SHARE = 1e-4;

/** The bin of a score: [i/20, (i+1)/20), 1 (and anything above) in the last; below 0 in the first. */
export function binOf(score: number): number {
  return Math.min(SCORE_BINS - 1, Math.max(0, Math.floor(score * SCORE_BINS)));
}

/** A histogram of scores over the fixed bins. */
export function histogram(scores: Iterable<number>): number[] {
  const bins = new Array<number>(SCORE_BINS).fill(0);
  for (const s of scores) bins[binOf(s)]! += 1;
  return bins;
}

/**
 * Population stability index of `actual` against `expected` (both histograms over the same bins):
 * Σ (a − e) · ln(a / e) over the bins' shares, each share floored at 1e-4.
 */
export function psi(expected: readonly number[], actual: readonly number[]): number {
  const e = shares(expected);
  const a = shares(actual);
  let sum = 0;
  for (let i = 0; i < e.length; i++) sum += (a[i]! - e[i]!) * Math.log(a[i]! / e[i]!);
  return round(sum);
}

function shares(bins: readonly number[]): number[] {
  const total = bins.reduce((x, y) => x + y, 0);
  return bins.map((n) => Math.max(MIN_SHARE, total === 0 ? 0 : n / total));
}

/** Two-sample Kolmogorov–Smirnov statistic: the largest gap between the two empirical CDFs (exact, from the scores). */
export function ks(a: readonly number[], b: readonly number[]): number {
  if (a.length === 0 || b.length === 0) return 0;
  const x = [...a].sort((p, q) => p - q);
  const y = [...b].sort((p, q) => p - q);
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i]!, y[j]!);
    while (i < x.length && x[i]! <= v) i++;
    while (j < y.length && y[j]! <= v) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  return round(d);
}

/** The reading of a PSI over `n` and `m` scores. */
export function readPsi(value: number | null): DriftReading {
  if (value === null) return 'too few scores';
  return value < PSI_MODERATE ? 'stable' : value <= PSI_SHIFT ? 'moderate' : 'shift';
}

/** PSI and KS of two score sets, or nulls when either has fewer than {@link MIN_DRIFT_SCORES}. */
export interface Comparison {
  /** Scores on each side. */
  readonly n: number;
  readonly previousN: number;
  readonly psi: number | null;
  readonly ks: number | null;
  readonly reading: DriftReading;
}

export function compare(previous: readonly number[], current: readonly number[]): Comparison {
  const enough = previous.length >= MIN_DRIFT_SCORES && current.length >= MIN_DRIFT_SCORES;
  const p = enough ? psi(histogram(previous), histogram(current)) : null;
  return { n: current.length, previousN: previous.length, psi: p, ks: enough ? ks(previous, current) : null, reading: readPsi(p) };
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
