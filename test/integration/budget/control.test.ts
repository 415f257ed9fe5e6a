/**
 * Batch control: pause holds one batch's lines (no attempt spent, no call) while another batch runs;
 * resume lets them finish; cancel ends the unsent lines CANCELLED, the batch finishes, nothing is
 * lost, and retry sends the cancelled lines.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { batchStatus, cancelBatch, enqueueBatch, pauseBatch, retryBatch } from '../../../src/app/index.js';
import type { ResultRecord } from '../../../src/checks/types.js';
import { startWorkers, type Runtime, type WorkerHandle } from '../../../src/runtime/runtime.js';
import { sampleJpeg } from '../../../src/simulator/sample-media.js';
import { runCli } from '../../helpers/cli.js';
import { createHarness, eventually, type Harness } from '../../helpers/pipeline.js';

let h: Harness;
let runtime: Runtime;
const pools: WorkerHandle[] = [];

beforeEach(async () => {
  h = await createHarness('control', { latencyMs: 40 }, { RESCREEN_HELD_RECHECK_MS: '300', RESCREEN_CONCURRENCY: '4' });
  runtime = await h.openRuntime();
});
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
  await h.close();
});

async function manifest(name: string, lines: number): Promise<string> {
  for (let i = 1; i <= lines; i++) await h.file(`${name}/p${i}.jpg`, sampleJpeg({ seed: name.length * 1000 + i }));
  return h.manifest(`${name}.jsonl`, Array.from({ length: lines }, (_, i) => ({ ref: `${name}/p${i + 1}.jpg`, check: 'ooto-deepfake', subject: `${name}-${i}` })));
}

async function records(batch: string): Promise<ResultRecord[]> {
  const out: ResultRecord[] = [];
  for await (const r of runtime.store.stream(batch)) out.push(r);
  return out;
}

describe('batch control', () => {
  it('pause holds one batch while another runs; resume finishes it with one call per line', async () => {
    await enqueueBatch(runtime, { manifest: await manifest('slow', 30), batch: 'slow' });
    await pauseBatch(runtime, 'slow');
    await enqueueBatch(runtime, { manifest: await manifest('urgent', 10), batch: 'urgent' });
    pools.push(startWorkers(runtime));
    await eventually(() => runtime.store.summary('urgent'), (s) => s !== null && s.recorded === 10);
    await new Promise((r) => setTimeout(r, 800));
    // The paused batch made no call and spent no attempt; the other batch went past it.
    expect((await runtime.store.summary('slow'))!.recorded).toBe(0);
    expect(h.sim.stats().totalCalls).toBe(10);
    const status = await batchStatus(runtime, 'slow');
    expect(status).toMatchObject({ state: 'paused' });
    expect(status.waiting).toContain('paused: its lines wait (rescreen batch resume slow)');
    const cli = await runCli(['status', 'slow'], h.env);
    expect(cli.stdout).toContain('waiting: paused: its lines wait (rescreen batch resume slow)\n');

    expect((await runCli(['batch', 'pause', 'slow'], h.env)).stderr).toBe('rescreen: batch slow is paused already\n');
    const resumed = await runCli(['batch', 'resume', 'slow'], h.env);
    expect(resumed.code, resumed.stderr).toBe(0);
    await eventually(() => runtime.store.summary('slow'), (s) => s !== null && s.recorded === 30);
    expect(h.sim.stats().totalCalls).toBe(40);
    expect((await records('slow')).every((r) => r.status === 'completed' && r.attempts === 1)).toBe(true);
    expect((await runCli(['batch', 'cancel', 'slow'], h.env)).stderr).toBe('rescreen: batch slow is finished: nothing to cancel\n');
  });

  it('cancel ends the unsent lines CANCELLED, the batch finishes, and retry sends them', async () => {
    await enqueueBatch(runtime, { manifest: await manifest('big', 40), batch: 'big' });
    pools.push(startWorkers(runtime));
    await eventually(() => runtime.store.summary('big'), (s) => s !== null && s.recorded >= 5);
    const cancelled = await cancelBatch(runtime, 'big');
    expect(cancelled.jobs).toBeGreaterThan(0);
    const done = await eventually(() => runtime.store.summary('big'), (s) => s !== null && s.recorded === 40);
    expect(done!.finishedAt).not.toBeNull();
    const all = await records('big');
    const sent = all.filter((r) => r.status === 'completed');
    const ended = all.filter((r) => r.error?.code === 'CANCELLED');
    // Nothing lost: every line is either answered or CANCELLED, and only answered lines were paid for.
    expect(sent.length + ended.length).toBe(40);
    expect(h.sim.stats().totalCalls).toBe(sent.length);
    expect(ended.every((r) => r.status === 'failed' && r.transactionId === null)).toBe(true);

    const retried = await retryBatch(runtime, 'big');
    expect(retried.requeued).toBe(ended.length);
    await eventually(
      async () => (await records('big')).filter((r) => r.status === 'completed').length,
      (n) => n === 40,
    );
    expect(h.sim.stats().totalCalls).toBe(40);
    expect((await runCli(['batch', 'resume', 'big'], h.env)).stderr).toBe('rescreen: batch big is not paused (it is running)\n');
    expect((await runCli(['batch', 'pause', 'no-such'], h.env)).code).toBe(1);
  });
});

describe('batch priority', () => {
  it('a batch enqueued later with --priority goes ahead of an earlier one', async () => {
    await enqueueBatch(runtime, { manifest: await manifest('backlog', 30), batch: 'backlog' });
    await enqueueBatch(runtime, { manifest: await manifest('vip', 5), batch: 'vip', priority: 90 });
    pools.push(startWorkers(runtime, { concurrency: 1 }));
    await eventually(() => runtime.store.summary('vip'), (s) => s !== null && s.recorded === 5);
    // With one job at a time, the vip lines were done while most of the backlog still waited.
    expect((await runtime.store.summary('backlog'))!.recorded).toBeLessThanOrEqual(3);
    await expect(enqueueBatch(runtime, { manifest: await manifest('bad', 1), batch: 'bad', priority: 101 })).rejects.toThrow(
      '--priority must be a whole number from 1 (last) to 100 (first); the default is 50',
    );
  });
});
