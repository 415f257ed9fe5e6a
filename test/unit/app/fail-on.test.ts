import { describe, expect, it } from 'vitest';
import { crossedRules, needsChanges, parseFailOn } from '../../../src/app/fail-on.js';
import { InvalidInputError } from '../../../src/errors/errors.js';
import type { ChangeCounts } from '../../../src/history/changes.js';
import type { BatchSummary } from '../../../src/store/types.js';

const summary = (failed: number, rejected: number, total = 200): BatchSummary => ({
  batch: 'b',
  createdAt: '2026-01-01T00:00:00Z',
  manifest: null,
  finishedAt: '2026-01-01T01:00:00Z',
  producerDone: true,
  total,
  maxLine: total,
  recorded: total,
  byStatus: { completed: total - failed - rejected, rejected, failed },
  byVerdict: { genuine: 0, deepfake: 0, match: 0, 'no-match': 0 },
});

const changes = (worse: number, drops: number, better: number): ChangeCounts => ({
  lines: 10,
  byKind: { worse, better, 'score-drop': drops, unchanged: 0, new: 0, 'no-verdict': 0 },
  transitions: {},
  worseTransitions: [],
  sharedMedia: { files: 0, subjects: 0, list: [] },
});

describe('--fail-on', () => {
  it('reads counts, percentages, >= and several rules', () => {
    expect(parseFailOn('failed>0')).toEqual([{ metric: 'failed', op: '>', amount: 0, percent: false, text: 'failed>0' }]);
    expect(parseFailOn(' failed > 1.5% , rejected>=10 ,changes>0').map((r) => [r.metric, r.op, r.amount, r.percent])).toEqual([
      ['failed', '>', 1.5, true],
      ['rejected', '>=', 10, false],
      ['changes', '>', 0, false],
    ]);
  });

  it('refuses what it cannot read, naming the rule and the grammar', () => {
    for (const bad of ['', 'failed', 'failed<3', 'oops>1', 'failed>-1', 'failed>150%', 'failed>0,']) {
      expect(() => parseFailOn(bad), bad).toThrow(InvalidInputError);
    }
    expect(() => parseFailOn('failed>0,oops>1')).toThrow('--fail-on: cannot read "oops>1"; write <failed|rejected|completed|changes|worse>(>|>=)<number>[%]');
  });

  it('is crossed only past the threshold; a percentage is of the batch lines', () => {
    expect(crossedRules(parseFailOn('failed>0'), summary(0, 5))).toEqual([]);
    expect(crossedRules(parseFailOn('failed>0'), summary(1, 0))).toEqual(['failed>0: 1 failed lines (of 200)']);
    expect(crossedRules(parseFailOn('failed>1%'), summary(2, 0))).toEqual([]);
    expect(crossedRules(parseFailOn('failed>1%'), summary(3, 0))).toHaveLength(1);
    expect(crossedRules(parseFailOn('rejected>=5'), summary(0, 5))).toHaveLength(1);
    expect(crossedRules(parseFailOn('failed>0%'), summary(0, 0, 0))).toEqual([]);
  });

  it('counts changes both ways and worse one way, only when the counts are given', () => {
    const rules = parseFailOn('changes>0');
    expect(needsChanges(rules)).toBe(true);
    expect(needsChanges(parseFailOn('failed>0'))).toBe(false);
    expect(crossedRules(rules, summary(0, 0), changes(0, 0, 1))).toEqual(['changes>0: 1 changes (of 200)']);
    expect(crossedRules(parseFailOn('worse>0'), summary(0, 0), changes(0, 0, 1))).toEqual([]);
    expect(crossedRules(parseFailOn('worse>1'), summary(0, 0), changes(1, 1, 0))).toEqual(['worse>1: 2 worse (of 200)']);
  });
});
