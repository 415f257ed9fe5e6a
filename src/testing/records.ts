/**
 * Plain helpers over result records, usable from any test runner (vitest, jest, node:test): each
 * returns plain data to compare with `toEqual`, or throws an Error whose message shows the difference.
 */
import type { ResultRecord } from '../checks/types.js';

/**
 * One word for what a record says: its verdict when `completed` (`genuine`, `deepfake`, `match`,
 * `no-match`), else `<status>:<error code>`, e.g. `rejected:5`, `rejected:FAILED`,
 * `rejected:MEDIA_EMPTY`, `failed:MEDIA_NOT_FOUND`, `failed:INVALID_LINE`.
 */
export function outcomeOf(record: ResultRecord): string {
  if (record.status === 'completed') return record.verdict ?? 'completed';
  return `${record.status}:${record.error?.code ?? '?'}`;
}

/** {@link outcomeOf} of each record, in the order given (`env.records()` gives line order). */
export function outcomesOf(records: readonly ResultRecord[]): string[] {
  return records.map(outcomeOf);
}

/** `{ [line]: outcome }`: compare a batch with `toEqual({ 1: 'genuine', 2: 'rejected:5', … })`. */
export function outcomesByLine(records: readonly ResultRecord[]): Record<number, string> {
  return Object.fromEntries(records.map((r) => [r.line, outcomeOf(r)]));
}

/** Counts of {@link outcomeOf} values: `{ genuine: 7, 'rejected:5': 1, … }`. */
export function countOutcomes(records: readonly ResultRecord[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of records) counts[outcomeOf(r)] = (counts[outcomeOf(r)] ?? 0) + 1;
  return counts;
}

/**
 * Checks that there is exactly one record per line 1…`lines` (the pipeline's promise) and that every
 * `completed` record carries a vendor transaction id.
 * @throws Error naming the missing, duplicated or incomplete lines.
 */
export function assertOneRecordPerLine(records: readonly ResultRecord[], lines: number): void {
  const seen = new Map<number, number>();
  for (const r of records) seen.set(r.line, (seen.get(r.line) ?? 0) + 1);
  const missing = Array.from({ length: lines }, (_, i) => i + 1).filter((l) => !seen.has(l));
  const doubled = [...seen].filter(([, n]) => n > 1).map(([l]) => l);
  const extra = [...seen.keys()].filter((l) => l < 1 || l > lines);
  const noTx = records.filter((r) => r.status === 'completed' && !r.transactionId).map((r) => r.line);
  const problems = [
    missing.length > 0 ? `no record for line(s) ${missing.join(', ')}` : '',
    doubled.length > 0 ? `several records for line(s) ${doubled.join(', ')}` : '',
    extra.length > 0 ? `records for line(s) ${extra.join(', ')} outside 1–${lines}` : '',
    noTx.length > 0 ? `completed without a transaction id: line(s) ${noTx.join(', ')}` : '',
  ].filter((p) => p !== '');
  if (problems.length > 0) throw new Error(`expected one record per line 1–${lines}: ${problems.join('; ')}`);
}

/** A matcher's answer, as `expect.extend` of vitest and jest want it. */
export interface MatcherResult {
  readonly pass: boolean;
  message(): string;
}

/**
 * Matchers for `expect.extend(recordMatchers)` (vitest or jest):
 * `expect(record).toHaveOutcome('genuine')`, `expect(records).toHaveOutcomes(['genuine', 'rejected:5'])`.
 * (Declare them for TypeScript in your own setup file; the plain helpers above need nothing.)
 */
export const recordMatchers = {
  toHaveOutcome(received: ResultRecord, expected: string): MatcherResult {
    const got = outcomeOf(received);
    return {
      pass: got === expected,
      message: () => `expected line ${received.line} to have outcome ${JSON.stringify(expected)}, got ${JSON.stringify(got)}${received.error ? ` (${received.error.message})` : ''}`,
    };
  },
  toHaveOutcomes(received: readonly ResultRecord[], expected: readonly string[]): MatcherResult {
    const got = outcomesOf(received);
    const diff = Array.from({ length: Math.max(got.length, expected.length) }, (_, i) => i)
      .filter((i) => got[i] !== expected[i])
      .map((i) => `#${i + 1}: expected ${JSON.stringify(expected[i])}, got ${JSON.stringify(got[i])}`);
    return { pass: diff.length === 0, message: () => `outcomes differ — ${diff.join('; ') || 'none'}` };
  },
};
