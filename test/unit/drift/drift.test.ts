import { describe, expect, it } from 'vitest';
import { compare, histogram, ks, psi, readPsi } from '../../../src/drift/stats.js';
import { driftReport, describeDrift, summarizeDrift } from '../../../src/drift/report.js';
import { finishedDistribution } from '../../../src/drift/distribution.js';
import { MemoryResultStore } from '../../helpers/memory-result-store.js';
import type { ResultRecord } from '../../../src/checks/types.js';
import { blockRow, renderDrift } from '../../../src/cli/commands/drift.js';

/** Deterministic scores around `centre`: a fixed spread, no randomness. */
const scores = (n: number, centre: number, spread = 0.2) => Array.from({ length: n }, (_, i) => Math.min(1, Math.max(0, centre + spread * ((i % 41) / 40 - 0.5))));

describe('drift statistics', () => {
  it('bins scores over [0, 1] in 20 bins, 1 in the last', () => {
    const h = histogram([0, 0.049, 0.05, 0.5, 0.99, 1]);
    expect(h).toHaveLength(20);
    expect(h[0]).toBe(2);
    expect(h[1]).toBe(1);
    expect(h[10]).toBe(1);
    expect(h[19]).toBe(2);
  });

  it('PSI is 0 for the same distribution, large for a shifted one, read by the conventional rule', () => {
    const a = scores(500, 0.8);
    expect(psi(histogram(a), histogram(a))).toBe(0);
    const shifted = psi(histogram(a), histogram(a.map((s) => s - 0.1)));
    expect(shifted).toBeGreaterThan(0.25);
    expect(readPsi(0.05)).toBe('stable');
    expect(readPsi(0.15)).toBe('moderate');
    expect(readPsi(0.3)).toBe('shift');
    expect(readPsi(null)).toBe('too few scores');
  });

  it('KS is the largest gap between the two CDFs', () => {
    expect(ks([0.1, 0.2, 0.3], [0.1, 0.2, 0.3])).toBe(0);
    expect(ks([0.1, 0.2], [0.8, 0.9])).toBe(1);
    expect(ks([0.1, 0.2, 0.3, 0.4], [0.3, 0.4, 0.5, 0.6])).toBe(0.5);
  });

  it('fewer than 30 scores on either side is "too few scores", not a number', () => {
    const c = compare(scores(29, 0.5), scores(500, 0.5));
    expect(c).toMatchObject({ psi: null, ks: null, reading: 'too few scores', n: 500, previousN: 29 });
    expect(compare(scores(30, 0.5), scores(30, 0.5)).psi).toBe(0);
  });
});

function rec(batch: string, line: number, subject: string, score: number, over: Partial<ResultRecord> = {}): ResultRecord {
  return {
    batch,
    line,
    subject,
    check: 'ooto-deepfake',
    status: 'completed',
    transactionId: `t-${batch}-${line}`,
    verdict: score >= 0.5 ? 'genuine' : 'deepfake',
    score,
    error: null,
    attempts: 1,
    finishedAt: new Date().toISOString(),
    response: null,
    ...over,
  };
}

async function night(store: MemoryResultStore, batch: string, values: readonly number[], extra: ResultRecord[] = []): Promise<void> {
  await store.beginBatch(batch, `${batch}.jsonl`);
  const records = [...values.map((s, i) => rec(batch, i + 1, `cust-${i}`, s)), ...extra.map((r, i) => ({ ...r, batch, line: values.length + i + 1 }))];
  for (const r of records) await store.put(r);
  await store.finishBatch(batch, { total: records.length, maxLine: records.length });
  await new Promise((r) => setTimeout(r, 2));
}

describe('drift report', () => {
  it('compares each check with the previous finished batch, all subjects and subjects in both, canaries left out', async () => {
    const store = new MemoryResultStore();
    const base = scores(200, 0.8);
    await night(store, 'n1', base);
    // Canary records with wild scores must not move the numbers.
    const canary = rec('x', 0, 'canary-1', 0.01, { canary: { expect: 'genuine' } });
    await night(store, 'n2', base, [canary, canary, canary]);
    const stable = await driftReport(store, 'n2');
    expect(stable?.checks).toHaveLength(1);
    expect(stable?.checks[0]).toMatchObject({ check: 'ooto-deepfake', against: 'n1', all: { psi: 0, ks: 0, n: 200, reading: 'stable' }, both: { psi: 0, n: 200 } });
    expect(stable?.alert).toBe(false);
    expect((await store.distribution('n2'))?.canaryLines).toEqual({ from: 201, to: 203 });
    expect((await finishedDistribution(store, 'n2'))?.byCheck['ooto-deepfake']?.scored).toBe(200);

    await night(store, 'n3', base.map((s) => Math.max(0, s - 0.1)));
    const shifted = await driftReport(store, 'n3');
    expect(shifted?.checks[0]?.against).toBe('n2');
    expect(shifted?.checks[0]?.all.psi).toBeGreaterThan(0.25);
    expect(shifted?.checks[0]?.all.reading).toBe('shift');
    expect(shifted?.alert).toBe(true);
    expect(describeDrift(summarizeDrift(shifted!))).toMatch(/^DRIFT ALERT — drift: ooto-deepfake PSI \d\.\d{3} shift .* against n2 \[PSI < 0\.1 stable/);
    expect(renderDrift(shifted!)).toMatch(/now {5}0 \|[ ▁▂▃▄▅▆▇█]{20}\| 1/);

    // --against an older batch; half the subjects in both.
    await night(store, 'n4', base.slice(0, 100));
    const against = await driftReport(store, 'n4', { against: 'n1' });
    expect(against?.checks[0]).toMatchObject({ against: 'n1', all: { n: 100, previousN: 200 }, both: { n: 100, previousN: 100, psi: expect.any(Number) } });
    expect(against?.checks[0]?.both.psi).toBe(0);
  });

  it('a batch not finished has no report; the first batch of a check has nothing to compare with', async () => {
    const store = new MemoryResultStore();
    await store.beginBatch('open', null);
    expect(await driftReport(store, 'open')).toBeNull();
    await night(store, 'first', scores(40, 0.7));
    const report = await driftReport(store, 'first');
    expect(report?.checks[0]).toMatchObject({ against: null, all: { reading: 'too few scores' } });
    expect(report?.alert).toBe(false);
  });

  it('draws block rows scaled to the larger share', () => {
    expect(blockRow([0, 1, 2, 0], 2 / 3)).toBe(' ▄█ ');
  });
});
