/**
 * After a re-screen: two nightly batches over the same subjects, where the simulator's answer flips
 * for some media between the nights. `changes` must list exactly those subjects; a manifest's
 * `previous` is the baseline for a subject never screened before; `subject` lists the history.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { batchChangeCounts, batchChangeRows, subjectHistory, type Change } from '../../../src/app/index.js';
import type { Runtime } from '../../../src/runtime/runtime.js';
import { sampleJpeg, sampleMp4 } from '../../../src/simulator/sample-media.js';
import { runCli } from '../../helpers/cli.js';
import { createHarness, runToEnd, type Harness } from '../../helpers/pipeline.js';

let h: Harness;
let runtime: Runtime;

beforeEach(async () => {
  h = await createHarness('changes');
  runtime = await h.openRuntime();
  h.sim.addTemplate(sampleJpeg({ seed: 100, directives: 'face=alice' }), 'tmpl-alice');
});
afterEach(async () => {
  await h.close();
});

async function run(manifest: string, batch: string): Promise<void> {
  await runToEnd(runtime, manifest, batch);
}

async function collect(rows: AsyncIterable<Change>): Promise<Change[]> {
  const out: Change[] = [];
  for await (const r of rows) out.push(r);
  return out;
}

/** Night 1, then the media of s2, s3, s4 change (the customer re-uploaded, or the vendor's model moved), then night 2. */
async function twoNights(): Promise<void> {
  await h.file('s1.jpg', sampleJpeg({ seed: 1, directives: 'genuine,score=0.95' }));
  await h.file('s2.jpg', sampleJpeg({ seed: 2, directives: 'genuine,score=0.93' }));
  await h.file('s3.mp4', sampleMp4({ seed: 3, directives: 'score=0.95' }));
  await h.file('s4.jpg', sampleJpeg({ seed: 4, directives: 'face=alice' }));
  await h.file('s5.mp4', sampleMp4({ seed: 5, directives: 'genuine' }));
  const night = [
    { ref: 's1.jpg', check: 'ooto-deepfake', subject: 's1' },
    { ref: 's2.jpg', check: 'ooto-deepfake', subject: 's2' },
    { ref: 's3.mp4', check: 'glair-video', subject: 's3' },
    { ref: 's4.jpg', check: 'ooto-identify', subject: 's4' },
    { ref: 's5.mp4', check: 'glair-video', subject: 's5' },
  ];
  await run(await h.manifest('night-1.jsonl', night), 'night-1');

  await h.file('s2.jpg', sampleJpeg({ seed: 12, directives: 'fake,score=0.10' }));
  await h.file('s3.mp4', sampleMp4({ seed: 13, directives: 'score=0.7' }));
  await h.file('s4.jpg', sampleJpeg({ seed: 14, directives: 'face=mallory' }));
  await h.file('s6.jpg', sampleJpeg({ seed: 6, directives: 'fake,score=0.2' }));
  await h.file('s7.jpg', sampleJpeg({ seed: 7, directives: 'genuine,score=0.9' }));
  await run(
    await h.manifest('night-2.jsonl', [
      ...night,
      // Never screened by rescreen: onboarding's decision, carried by the line, is the baseline.
      { ref: 's6.jpg', check: 'ooto-deepfake', subject: 's6', previous: { verdict: 'genuine', score: 0.91, at: '2025-03-01' } },
      { ref: 's7.jpg', check: 'ooto-deepfake', subject: 's7' },
    ]),
    'night-2',
  );
}

describe('verdict changes between two re-screens', () => {
  it('lists exactly the subjects whose verdict or score moved, with the manifest baseline for a new subject', async () => {
    await twoNights();
    const rows = await collect(await batchChangeRows(runtime, 'night-2'));
    const kindOf = Object.fromEntries(rows.map((r) => [r.subject, r.kind]));
    expect(kindOf).toEqual({ s1: 'unchanged', s2: 'worse', s3: 'score-drop', s4: 'worse', s5: 'unchanged', s6: 'worse', s7: 'new' });
    const s2 = rows.find((r) => r.subject === 's2')!;
    expect(s2).toMatchObject({ label: 'genuine → deepfake', verdict: 'deepfake', baseline: { source: 'record', batch: 'night-1', verdict: 'genuine', score: 0.93 } });
    expect(s2.baseline?.transactionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(rows.find((r) => r.subject === 's4')).toMatchObject({ label: 'match → no-match' });
    expect(rows.find((r) => r.subject === 's6')).toMatchObject({ label: 'genuine → deepfake', baseline: { source: 'manifest', score: 0.91, at: '2025-03-01' } });
    expect(rows.find((r) => r.subject === 's3')).toMatchObject({ scoreDelta: -0.25 });

    const counts = await batchChangeCounts(runtime, 'night-2');
    expect(counts).toMatchObject({ lines: 7, byKind: { worse: 3, 'score-drop': 1, unchanged: 2, new: 1, better: 0 } });
    expect(counts.transitions).toEqual({ 'genuine → deepfake': 2, 'match → no-match': 1 });

    // Night 1 itself had no earlier screening: everything is new.
    expect((await batchChangeCounts(runtime, 'night-1')).byKind.new).toBe(5);
    // A larger --min-delta: the score drop no longer counts.
    expect((await batchChangeCounts(runtime, 'night-2', { minDelta: 0.5 })).byKind['score-drop']).toBe(0);
    // --against names the batch: the same answer here, and s6 still falls back to its manifest baseline.
    const against = await collect(await batchChangeRows(runtime, 'night-2', { against: 'night-1', onlyWorse: true }));
    expect(against.map((r) => r.subject)).toEqual(['s2', 's3', 's4', 's6']);

    // The subject's history: both nights, oldest first.
    const history = await subjectHistory(runtime, 's2');
    expect(history.map((r) => [r.batch, r.verdict])).toEqual([
      ['night-1', 'genuine'],
      ['night-2', 'deepfake'],
    ]);
    await expect(subjectHistory(runtime, 's2', { check: 'glair-video' })).rejects.toThrow(/no record of subject "s2" for glair-video/);

    // The CLI renders the same: `changes --only worse`, CSV, and `subject`.
    const worse = await runCli(['changes', 'night-2', '--only', 'worse', '--format', 'csv'], h.env);
    expect(worse.code).toBe(0);
    const csvLines = worse.stdout.trim().split('\n');
    expect(csvLines[0]).toMatch(/^line,subject,check,change,kind,previousVerdict/);
    expect(csvLines.slice(1).map((l) => l.split(',')[1])).toEqual(['s2', 's3', 's4', 's6']);
    expect(worse.stderr).toContain('changes: 3 worse (genuine → deepfake 2, match → no-match 1), 1 score drop, 0 better, 2 unchanged, 1 new');

    const table = await runCli(['changes', 'night-2'], h.env);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/s6\s+ooto-deepfake\s+genuine 0\.91 \(manifest\)\s+deepfake 0\.20\s+genuine → deepfake/);

    const subject = await runCli(['subject', 's4', '--format', 'jsonl'], h.env);
    expect(subject.code).toBe(0);
    expect(subject.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { verdict: string }).verdict)).toEqual(['match', 'no-match']);

    const status = await runCli(['status', 'night-2'], h.env);
    expect(status.stdout).toContain('changes: 3 worse (genuine → deepfake 2, match → no-match 1), 1 score drop, 0 better, 2 unchanged, 1 new');

    // --fail-on for unattended runs: the finished batch's worse verdicts make a scheduler's alert.
    const alert = await runCli(['status', 'night-2', '--fail-on', 'failed>0,worse>0'], h.env);
    expect(alert.code).toBe(4);
    expect(alert.stderr).toBe('rescreen: --fail-on worse>0: 4 worse (of 7)\n');
    expect((await runCli(['status', 'night-2', '--fail-on', 'failed>0,worse>5'], h.env)).code).toBe(0);
    const missing = await h.manifest('night-3.jsonl', [{ ref: 's1.jpg', check: 'ooto-deepfake', subject: 's1' }, { ref: 'gone.jpg', check: 'ooto-deepfake', subject: 's8' }]);
    const nightly = await runCli(['run', missing, '--batch', 'night-3', '--fail-on', 'failed>10%,changes>0'], h.env);
    expect(nightly.code).toBe(4);
    expect(nightly.stderr).toContain('rescreen: --fail-on failed>10%: 1 failed lines (of 2)\n');
    expect(nightly.stderr).not.toContain('changes>0');
    expect((await runCli(['run', missing, '--fail-on', 'failed=1'], h.env)).code).toBe(2);

    const unknown = await runCli(['changes', 'night-2', '--against', 'no-such-night'], h.env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('rescreen: no batch "no-such-night"\n');
    const badDelta = await runCli(['changes', 'night-2', '--min-delta', '2'], h.env);
    expect(badDelta.code).toBe(2);
  });

  it('refuses a previous verdict the check cannot give, as an invalid line with its reason', async () => {
    await h.file('a.jpg', sampleJpeg({ seed: 1 }));
    const manifest = await h.manifest('bad.jsonl', [
      { ref: 'a.jpg', check: 'ooto-identify', subject: 'x', previous: { verdict: 'genuine' } },
      { ref: 'a.jpg', check: 'ooto-deepfake', subject: 'y', previous: 'genuine' },
      { ref: 'a.jpg', check: 'ooto-deepfake', subject: 'z', previous: { verdict: 'genuine', score: 0.8, when: 'x' } },
    ]);
    await run(manifest, 'bad-previous');
    const records = [];
    for await (const r of runtime.store.stream('bad-previous')) records.push(r);
    expect(records.map((r) => [r.status, r.error?.message])).toEqual([
      ['failed', 'previous.verdict of a ooto-identify line must be match or no-match (got "genuine")'],
      ['failed', 'previous must be an object {verdict, score, at}'],
      ['failed', 'previous takes verdict, score, at (not when)'],
    ]);
    expect(h.sim.stats().totalCalls).toBe(0);
  });
});
