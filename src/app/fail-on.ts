/**
 * `--fail-on` for unattended runs: `failed>0`, `failed>1%`, `rejected>=10`, `changes>0`,
 * `worse>0`, comma-separated (any one crossing fails the run). A percentage is of the batch's lines.
 */
import { InvalidInputError } from '../errors/errors.js';
import type { ChangeCounts } from '../history/changes.js';
import type { BatchSummary } from '../store/types.js';

/** What a rule can count. `changes`: verdicts that moved either way plus score drops; `worse`: worse verdicts plus score drops. */
export const FAIL_ON_METRICS = ['failed', 'rejected', 'completed', 'changes', 'worse'] as const;
export type FailOnMetric = (typeof FAIL_ON_METRICS)[number];

export interface FailOnRule {
  readonly metric: FailOnMetric;
  readonly op: '>' | '>=';
  readonly amount: number;
  readonly percent: boolean;
  /** As written, e.g. `failed>1%`. */
  readonly text: string;
}

const RULE = /^\s*([a-z]+)\s*(>=|>)\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/;

/** Parses `failed>0,changes>0`. @throws InvalidInputError naming the bad rule. */
export function parseFailOn(text: string): FailOnRule[] {
  const rules: FailOnRule[] = [];
  for (const part of text.split(',')) {
    const m = RULE.exec(part);
    const metric = m?.[1];
    if (m === null || metric === undefined || !(FAIL_ON_METRICS as readonly string[]).includes(metric)) {
      throw new InvalidInputError(
        `--fail-on: cannot read ${JSON.stringify(part.trim())}; write <${FAIL_ON_METRICS.join('|')}>(>|>=)<number>[%], e.g. failed>0 or failed>1%`,
      );
    }
    const percent = m[4] === '%';
    const amount = Number(m[3]);
    if (percent && amount > 100) throw new InvalidInputError(`--fail-on: ${part.trim()} is over 100%`);
    rules.push({ metric: metric as FailOnMetric, op: m[2] as '>' | '>=', amount, percent, text: part.trim() });
  }
  return rules;
}

/** Whether any rule needs the change counts (which cost a read of every subject's history). */
export function needsChanges(rules: readonly FailOnRule[]): boolean {
  return rules.some((r) => r.metric === 'changes' || r.metric === 'worse');
}

/** The rules the finished batch crosses, each as a sentence: `failed>0: 3 failed lines (of 40)`. */
export function crossedRules(rules: readonly FailOnRule[], summary: BatchSummary, changes?: ChangeCounts): string[] {
  const out: string[] = [];
  for (const rule of rules) {
    const count = valueOf(rule.metric, summary, changes);
    if (count === undefined) continue;
    const value = rule.percent ? (summary.total > 0 ? (100 * count) / summary.total : 0) : count;
    const crossed = rule.op === '>' ? value > rule.amount : value >= rule.amount;
    if (crossed) out.push(`${rule.text}: ${count} ${rule.metric === 'changes' || rule.metric === 'worse' ? rule.metric : `${rule.metric} lines`} (of ${summary.total})`);
  }
  return out;
}

function valueOf(metric: FailOnMetric, summary: BatchSummary, changes?: ChangeCounts): number | undefined {
  switch (metric) {
    case 'failed':
    case 'rejected':
    case 'completed':
      return summary.byStatus[metric];
    case 'changes':
      return changes === undefined ? undefined : changes.byKind.worse + changes.byKind.better + changes.byKind['score-drop'];
    case 'worse':
      return changes === undefined ? undefined : changes.byKind.worse + changes.byKind['score-drop'];
  }
}
