/**
 * Pay once per media: with --dedupe, 200 lines over 20 files make 20 paid calls and 200 records,
 * each reused one naming the line that paid; the dry run says what --dedupe would save.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { batchChangeCounts, enqueueBatch } from '../../../src/app/index.js';
import type { ResultRecord } from '../../../src/checks/types.js';
import { startWorkers, type Runtime, type WorkerHandle } from '../../../src/runtime/runtime.js';
import { sampleJpeg } from '../../../src/simulator/sample-media.js';
import { runCli } from '../../helpers/cli.js';
import { createHarness, eventually, type Harness } from '../../helpers/pipeline.js';

let h: Harness;
let runtime: Runtime;
const pools: WorkerHandle[] = [];

beforeEach(async () => {
  h = await createHarness('dedupe', { latencyMs: 30 }, { RESCREEN_HELD_RECHECK_MS: '200', OOTO_PRICE_PER_CALL: '0.02', GLAIR_PRICE_PER_CALL: '0.05' });
  runtime = await h.openRuntime();
});
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
  await h.close();
});

/** 20 files (every 5th a face the vendor cannot find: a rejection), each named under 10 paths by 200 lines. */
async function manifest(): Promise<string> {
  const lines = [];
  for (let f = 0; f < 20; f++) {
    const bytes = sampleJpeg({ seed: 500 + f, directives: f % 5 === 0 ? 'noface' : f % 2 === 0 ? 'fake' : 'genuine' });
    for (let copy = 0; copy < 10; copy++) {
      const name = `m/${f}-${copy}.jpg`;
      await h.file(name, bytes); // the same bytes under another name: still one media
      lines.push({ ref: name, check: 'ooto-deepfake', subject: `s${f}-${copy}` });
    }
  }
  return h.manifest('dedupe.jsonl', lines);
}

describe('--dedupe', () => {
  it('200 lines over 20 distinct files: 20 paid calls, 200 records, reuses marked', async () => {
    const path = await manifest();
    const dry = await runCli(['enqueue', path, '--dry-run'], h.env);
    expect(dry.stdout).toContain('distinct media: 20 (of 200 paid calls); --dedupe would make 20 paid calls, saving 180 (USD 3.60)');

    // Two pools at once, so lines with the same media race for it.
    const second = await h.openRuntime();
    await enqueueBatch(runtime, { manifest: path, batch: 'd1', dedupe: true });
    pools.push(startWorkers(runtime, { concurrency: 8 }), startWorkers(second, { concurrency: 8 }));
    await eventually(() => runtime.store.summary('d1'), (s) => s !== null && s.recorded === 200, 60_000);

    expect(h.sim.stats().totalCalls).toBe(20);
    const records: ResultRecord[] = [];
    for await (const r of runtime.store.stream('d1')) records.push(r);
    expect(records).toHaveLength(200);
    const reused = records.filter((r) => r.reusedFrom !== undefined);
    expect(reused).toHaveLength(180);
    for (const r of reused) {
      const payer = records.find((p) => p.line === r.reusedFrom!.line)!;
      expect(payer.reusedFrom).toBeUndefined();
      expect(r.reusedFrom!.transactionId).toBe(payer.transactionId);
      expect([r.status, r.verdict]).toEqual([payer.status, payer.verdict]);
    }
    // Rejections are shared too: no paid call for a face the vendor already could not find.
    expect(records.filter((r) => r.status === 'rejected')).toHaveLength(40);
    expect(records.every((r) => r.attempts === 1)).toBe(true);

    // One file under ten subjects is a fraud signal: the changes' counts list it (reused records say what was screened too).
    const counts = await batchChangeCounts(runtime, 'd1');
    expect(counts.sharedMedia).toMatchObject({ files: 20, subjects: 200 });
    expect(counts.sharedMedia.list[0]).toMatchObject({ subjectCount: 10 });
    expect(records.every((r) => r.media?.[0]?.sha256.length === 64)).toBe(true);
    const changes = await runCli(['changes', 'd1'], h.env);
    expect(changes.stdout).toContain('; shared media: 20 files used by 200 subjects\n');
    expect(changes.stdout).toMatch(/^shared media [0-9a-f]{12}… used by 10 subjects: s\d+-0, s\d+-1, /m);

    // Without --dedupe every line pays.
    await enqueueBatch(runtime, { manifest: path, batch: 'd2' });
    await eventually(() => runtime.store.summary('d2'), (s) => s !== null && s.recorded === 200, 60_000);
    expect(h.sim.stats().totalCalls).toBe(220);
  });
});
