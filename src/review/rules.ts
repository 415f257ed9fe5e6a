/**
 * Which findings of a batch open review cases: the batch option `--review` (enqueue, run, schedules,
 * the APIs), e.g. `worse,new-bad,score-drop:0.3,shared`. The list replaces the defaults; `default`
 * stands for them (`default,score-drop:0.3` adds one rule), `none` opens no case.
 */
import type { CaseReason } from '../store/cases.js';

/** The rules a batch applies. `scoreDrop`: the threshold, or null when that rule is off. */
export interface ReviewRules {
  readonly worse: boolean;
  readonly newBad: boolean;
  readonly scoreDrop: number | null;
  readonly refusedAfterGood: boolean;
  readonly shared: boolean;
  /**
   * `ring`: a subject a ring link found by the batch ties to a fraud ring (src/rings). Off by default:
   * turn it on with `--review default,ring`.
   */
  readonly ring: boolean;
}

/** Rules a batch applies when it was given no `--review`. */
export const DEFAULT_REVIEW: ReviewRules = { worse: true, newBad: true, scoreDrop: null, refusedAfterGood: true, shared: true, ring: false };
export const DEFAULT_REVIEW_TEXT = 'worse,new-bad,refused-after-good,shared';
/** The threshold of a bare `score-drop`. */
export const DEFAULT_SCORE_DROP = 0.2;

export const REVIEW_RULE_NAMES = ['worse', 'new-bad', 'score-drop[:T]', 'refused-after-good', 'shared', 'ring', 'default', 'none'] as const;

export const REVIEW_HELP = `which findings open review cases: a comma list of worse, new-bad, score-drop[:T] (0 < T ≤ 1, default ${DEFAULT_SCORE_DROP}), refused-after-good, shared, ring (a fraud ring link, off by default); default (${DEFAULT_REVIEW_TEXT}) or none`;

/** Parses `--review`; the message names what is wrong. */
export function parseReviewRules(text: string): { ok: true; rules: ReviewRules } | { ok: false; reason: string } {
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length === 0) return { ok: false, reason: `--review must name rules (${REVIEW_RULE_NAMES.join(', ')})` };
  const rules = { worse: false, newBad: false, scoreDrop: null as number | null, refusedAfterGood: false, shared: false, ring: false };
  for (const part of parts) {
    const [name = '', arg, extra] = part.split(':');
    if (name !== 'score-drop' && arg !== undefined) return { ok: false, reason: `--review ${part}: only score-drop takes a value (score-drop:0.3)` };
    switch (name) {
      case 'worse':
        rules.worse = true;
        break;
      case 'new-bad':
        rules.newBad = true;
        break;
      case 'refused-after-good':
        rules.refusedAfterGood = true;
        break;
      case 'shared':
        rules.shared = true;
        break;
      case 'ring':
        rules.ring = true;
        break;
      case 'default':
        Object.assign(rules, { ...DEFAULT_REVIEW, scoreDrop: rules.scoreDrop, ring: rules.ring });
        break;
      case 'none':
        if (parts.length > 1) return { ok: false, reason: '--review none goes alone' };
        break;
      case 'score-drop': {
        const t = arg === undefined ? DEFAULT_SCORE_DROP : /^(0(\.\d{1,6})?|1(\.0{1,6})?|\.\d{1,6})$/.test(arg) ? Number(arg) : Number.NaN;
        if (extra !== undefined || !(t > 0 && t <= 1)) return { ok: false, reason: `--review ${part}: the score drop must be a number above 0 and at most 1, such as score-drop:0.3` };
        rules.scoreDrop = t;
        break;
      }
      default:
        return { ok: false, reason: `--review ${JSON.stringify(part)} is not a rule (${REVIEW_RULE_NAMES.join(', ')})` };
    }
  }
  return { ok: true, rules };
}

/** The rules as `--review` text (what a batch keeps). */
export function describeReviewRules(rules: ReviewRules): string {
  const out: string[] = [];
  if (rules.worse) out.push('worse');
  if (rules.newBad) out.push('new-bad');
  if (rules.scoreDrop !== null) out.push(`score-drop:${rules.scoreDrop}`);
  if (rules.refusedAfterGood) out.push('refused-after-good');
  if (rules.shared) out.push('shared');
  if (rules.ring) out.push('ring');
  return out.length === 0 ? 'none' : out.join(',');
}

/** Whether any rule is on. */
export function anyRule(rules: ReviewRules): boolean {
  return rules.worse || rules.newBad || rules.scoreDrop !== null || rules.refusedAfterGood || rules.shared || rules.ring;
}

export type { CaseReason };
