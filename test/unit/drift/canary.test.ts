import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_INS } from '../../../src/runtime/built-ins.js';
import { readCanarySet } from '../../../src/drift/canary-set.js';
import { canaryReport } from '../../../src/drift/canary-report.js';
import { driftReport, describeDrift, summarizeDrift } from '../../../src/drift/report.js';
import { renderCanary } from '../../../src/cli/commands/drift.js';
import type { ResultRecord, Verdict } from '../../../src/checks/types.js';
import { MemoryResultStore } from '../../helpers/memory-result-store.js';

const checks = BUILT_INS.checks;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rescreen-canary-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function set(lines: readonly string[]): Promise<string> {
  const file = join(dir, `set-${Math.random().toString(36).slice(2)}.jsonl`);
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

describe('canary set', () => {
  it('reads manifest lines plus expect; local refs resolve against its folder', async () => {
    const file = await set(['{"ref":"g.jpg","subject":"c-g","check":"ooto-deepfake","expect":"genuine"}', '{"ref":"https://x.test/f.jpg","subject":"c-f","check":"ooto-deepfake","expect":"deepfake"}']);
    const lines = await readCanarySet(file, { checks });
    expect(lines).toMatchObject([
      { check: 'ooto-deepfake', subject: 'c-g', ref: join(dir, 'g.jpg'), expect: 'genuine', canaryLine: 1 },
      { ref: 'https://x.test/f.jpg', expect: 'deepfake', canaryLine: 2 },
    ]);
  });

  it('a line without expect, or with one its check cannot give, is invalid, named by its line number', async () => {
    const file = await set([
      '{"ref":"g.jpg","check":"ooto-deepfake","expect":"genuine"}',
      '{"ref":"g.jpg","check":"ooto-deepfake"}',
      '{"ref":"g.jpg","check":"ooto-deepfake","expect":"match"}',
      '{"check":"ooto-deepfake","expect":"genuine"}',
    ]);
    const error = await readCanarySet(file, { checks }).then(() => null, (e: Error) => e);
    expect(error?.name).toBe('InvalidInputError');
    expect(error?.message).toContain('3 invalid lines');
    expect(error?.message).toContain('line 2: expect is missing');
    expect(error?.message).toContain('line 3: expect of a ooto-deepfake line must be genuine or deepfake (got "match")');
    expect(error?.message).toMatch(/line 4: .*ref/);
  });

  it('an empty or missing set is refused', async () => {
    await expect(readCanarySet(await set([]), { checks })).rejects.toThrow(/has no lines/);
    await expect(readCanarySet(join(dir, 'none.jsonl'), { checks })).rejects.toThrow(/canary set .*does not exist/);
  });
});

function rec(batch: string, line: number, subject: string, score: number, canary?: Verdict): ResultRecord {
  return {
    batch, line, subject, check: 'ooto-deepfake', status: 'completed', transactionId: `t-${batch}-${line}`,
    verdict: score >= 0.9 ? 'genuine' : 'deepfake', score, error: null, attempts: 1, finishedAt: new Date().toISOString(), response: null,
    ...(canary !== undefined ? { canary: { expect: canary, threshold: 0.1 } } : {}),
  };
}

async function night(store: MemoryResultStore, batch: string, shift: number): Promise<void> {
  await store.beginBatch(batch, null);
  const customers = Array.from({ length: 40 }, (_, i) => rec(batch, i + 1, `cust-${i}`, 0.95 - (i % 5) * 0.01 + shift));
  const canaries = [rec(batch, 41, 'c-g1', 0.95 + shift, 'genuine'), rec(batch, 42, 'c-g2', 0.97 + shift, 'genuine'), rec(batch, 43, 'c-f1', 0.3 + shift, 'deepfake')];
  for (const r of [...customers, ...canaries]) await store.put(r);
  await store.finishBatch(batch, { total: 43, maxLine: 43 });
  await new Promise((r) => setTimeout(r, 2));
}

describe('canary report', () => {
  it('agreement, each canary against its previous run, and the alert on a flip or a mean moved past the threshold', async () => {
    const store = new MemoryResultStore();
    await night(store, 'n1', 0);
    const first = await canaryReport(store, 'n1');
    expect(first).toMatchObject({ lines: 3, agreed: 3, agreement: 1, against: null, meanShift: null, alert: false });
    await night(store, 'n2', 0.01);
    const quiet = await canaryReport(store, 'n2');
    expect(quiet).toMatchObject({ against: 'n1', flips: 0, alert: false, threshold: 0.1 });
    expect(quiet?.meanShift).toBeCloseTo(0.01, 6);
    expect(quiet?.rows[0]).toMatchObject({ line: 41, subject: 'c-g1', expect: 'genuine', verdict: 'genuine', agrees: true, previous: { line: 41, verdict: 'genuine' }, flipped: false });
    await night(store, 'n3', -0.1);
    const moved = await canaryReport(store, 'n3');
    expect(moved).toMatchObject({ against: 'n2', agreed: 1, flips: 2, alert: true });
    expect(moved?.rows[0]?.flipped).toBe(true);
    const report = await driftReport(store, 'n3');
    expect(report?.alert).toBe(true);
    const summary = summarizeDrift(report!);
    expect(summary.canary).toMatchObject({ alert: true, flips: 2, lines: 3 });
    expect(describeDrift(summary)).toMatch(/canaries 1\/3 agree, mean moved -0\.110 against n2, 2 flipped \(CANARY ALERT, threshold 0\.1\)/);
    expect(renderCanary(moved!).join('\n')).toMatch(/41 +ooto-deepfake +c-g1 +genuine +deepfake +NO +0\.850 +0\.960 +-0\.110 +FLIPPED \(was genuine\)/);
    // Canary records never count as customers in the PSI.
    expect(report?.checks[0]?.all.n).toBe(40);
  });
});
