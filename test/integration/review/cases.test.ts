/**
 * Issue 19 acceptance: cases open by themselves. Two nights of 200 subjects; night 2 flips 5
 * deepfake verdicts and scripts 2 identify no-matches: exactly 7 cases open (none for the 193
 * unchanged), re-running night 2 opens none; on both stores. The other rules on small batches:
 * new-bad, score-drop (only when asked), refused-after-good, shared, and `--review none`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { listCases, scanBatchCases, enqueueBatch, type ReviewCase } from '../../../src/app/index.js';
import type { Runtime } from '../../../src/runtime/runtime.js';
import { startWorkers } from '../../../src/runtime/runtime.js';
import { sampleJpeg } from '../../../src/simulator/sample-media.js';
import { createHarness, eventually, STORE_KINDS, type Harness } from '../../helpers/pipeline.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Enqueues (with `review` rules when given), works until the batch is finished and its review scan ran. */
async function night(runtime: Runtime, manifest: string, batch: string, review?: string, options: { finishes?: boolean } = {}): Promise<void> {
  const scans = async () => (await runtime.review.getJobCounts('completed')).completed ?? 0;
  const before = await scans();
  await enqueueBatch(runtime, { manifest, batch, ...(review !== undefined ? { review } : {}) });
  const workers = startWorkers(runtime);
  try {
    await eventually(
      () => runtime.store.summary(batch),
      (s) => s !== null && s.finishedAt !== null,
    );
    // The scan its finish asked for has run (a batch that had finished before asks for none).
    if (options.finishes !== false) await eventually(scans, (n) => n > before);
    await eventually(() => workers.review.pendingCount(), (n) => n === 0);
  } finally {
    await workers.close();
  }
}

async function all(runtime: Runtime): Promise<ReviewCase[]> {
  return (await listCases(runtime, { limit: 1000 })).cases;
}

describe.each(STORE_KINDS)('review cases open by themselves (%s store)', (store) => {
  it('two nights of 200 subjects: 5 flipped deepfakes + 2 identify no-matches open exactly 7 cases; a re-run opens none', async () => {
    h = await createHarness(`cases-${store}`, {}, {}, { store });
    const runtime = await h.openRuntime();
    h.sim.addTemplate(sampleJpeg({ seed: 9_000, directives: 'face=alice' }), 'tmpl-alice');
    const subjects = Array.from({ length: 200 }, (_, i) => `cust-${String(i).padStart(3, '0')}`);
    const identify = new Set(subjects.slice(198));
    const flipped = new Set(subjects.slice(10, 15));
    const lines = subjects.map((s) => ({ ref: `${s}.jpg`, check: identify.has(s) ? 'ooto-identify' : 'ooto-deepfake', subject: s }));
    for (const [i, s] of subjects.entries()) {
      await h.file(`${s}.jpg`, sampleJpeg({ seed: i + 1, directives: identify.has(s) ? 'face=alice' : 'genuine,score=0.95' }));
    }
    await night(runtime, await h.manifest('night-1.jsonl', lines), 'night-1');
    expect(await all(runtime)).toEqual([]);

    for (const [i, s] of subjects.entries()) {
      if (flipped.has(s)) await h.file(`${s}.jpg`, sampleJpeg({ seed: 1_000 + i, directives: 'fake,score=0.08' }));
      if (identify.has(s)) await h.file(`${s}.jpg`, sampleJpeg({ seed: 1_000 + i, directives: 'face=mallory' }));
    }
    const manifest2 = await h.manifest('night-2.jsonl', lines);
    await night(runtime, manifest2, 'night-2');
    const cases = await all(runtime);
    expect(cases.map((c) => c.subject).sort()).toEqual([...flipped, ...identify].sort());
    for (const c of cases) {
      expect(c).toMatchObject({ batch: 'night-2', reasons: ['worse'], state: 'open', decisions: 0 });
      expect(c.lines).toHaveLength(1);
      expect(c.lines[0]!.label).toBe(identify.has(c.subject) ? 'match → no-match' : 'genuine → deepfake');
      expect(c.lines[0]!.baseline).toMatchObject({ source: 'record', batch: 'night-1' });
    }

    // Re-running night 2 (the same batch: nothing to do) and scanning it again open nothing.
    await night(runtime, manifest2, 'night-2', undefined, { finishes: false });
    expect((await scanBatchCases(runtime, 'night-2')).opened).toEqual([]);
    expect((await all(runtime)).map((c) => c.id).sort()).toEqual(cases.map((c) => c.id).sort());
  });
});

describe('the --review rules', () => {
  it('new-bad by default, score-drop only when asked, refused-after-good, shared, and none', async () => {
    h = await createHarness('cases-rules');
    const runtime = await h.openRuntime();
    await h.file('a.jpg', sampleJpeg({ seed: 1, directives: 'genuine,score=0.99' }));
    await h.file('b.jpg', sampleJpeg({ seed: 2, directives: 'genuine,score=0.95' }));
    await h.file('c.jpg', sampleJpeg({ seed: 3, directives: 'genuine,score=0.95' }));
    await h.file('shared.jpg', sampleJpeg({ seed: 4, directives: 'genuine,score=0.9' }));
    await h.file('new.jpg', sampleJpeg({ seed: 5, directives: 'fake,score=0.1' }));
    const first = [
      { ref: 'a.jpg', check: 'ooto-deepfake', subject: 'a' },
      { ref: 'b.jpg', check: 'ooto-deepfake', subject: 'b' },
      { ref: 'c.jpg', check: 'ooto-deepfake', subject: 'c' },
    ];
    await night(runtime, await h.manifest('n1.jsonl', first), 'n1');
    // Night 2: a's score drops a little, b's face is gone (the vendor refuses it), c is unchanged; d
    // and e share one file; f is new and a deepfake.
    await h.file('a.jpg', sampleJpeg({ seed: 11, directives: 'genuine,score=0.97' }));
    await h.file('b.jpg', sampleJpeg({ seed: 12, directives: 'noface' }));
    const second = [
      ...first,
      { ref: 'shared.jpg', check: 'ooto-deepfake', subject: 'd' },
      { ref: 'shared.jpg', check: 'ooto-deepfake', subject: 'e' },
      { ref: 'new.jpg', check: 'ooto-deepfake', subject: 'f' },
    ];
    const m2 = await h.manifest('n2.jsonl', second);
    await night(runtime, m2, 'n2');
    const byDefault = Object.fromEntries((await all(runtime)).map((c) => [c.subject, c.reasons]));
    expect(byDefault).toEqual({ b: ['refused-after-good'], d: ['shared'], e: ['shared'], f: ['new-bad'] });
    const d = (await all(runtime)).find((c) => c.subject === 'd')!;
    expect(d.lines[0]).toMatchObject({ reasons: ['shared'], sharedWith: ['e'] });
    const b = (await all(runtime)).find((c) => c.subject === 'b')!;
    expect(b.lines[0]).toMatchObject({ status: 'rejected', code: '5', kind: 'no-verdict', baseline: { verdict: 'genuine' } });

    // Again as another batch with score-drop:0.05 only: a opens (0.97 → 0.91, still genuine), nothing else.
    await h.file('a.jpg', sampleJpeg({ seed: 21, directives: 'genuine,score=0.91' }));
    await night(runtime, m2, 'n2-drop', 'score-drop:0.05');
    expect((await listCases(runtime, { batch: 'n2-drop' })).cases.map((c) => [c.subject, c.reasons])).toEqual([['a', ['score-drop']]]);
    // `none` opens nothing.
    await night(runtime, m2, 'n2-none', 'none');
    expect((await listCases(runtime, { batch: 'n2-none' })).cases).toEqual([]);
  });
});
