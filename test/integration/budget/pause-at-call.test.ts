/**
 * Batch control holds at the call: under a 5/s quota with 16 jobs in flight in a `rescreen work`
 * process, no vendor call of the batch leaves once `pause`, `cancel` or a lowered cap has returned
 * — calls already on the wire finish, jobs waiting for their quota permit do not call. Measured at
 * the simulator (arrival times), with a margin for a loaded machine.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { batchBudget, cancelBatch, enqueueBatch, pauseBatch, raiseBudget } from '../../../src/app/index.js';
import type { Runtime } from '../../../src/runtime/runtime.js';
import { sampleJpeg } from '../../../src/simulator/sample-media.js';
import { startCli } from '../../helpers/cli.js';
import { createHarness, eventually, type Harness } from '../../helpers/pipeline.js';

let h: Harness;
let runtime: Runtime;
let worker: ReturnType<typeof startCli> | undefined;

/** A call arriving later than this after the control returned left after it (the gate is checked right before sending). */
const MARGIN_MS = 200;

beforeEach(async () => {
  h = await createHarness('at-call', { latencyMs: 150 }, { OOTO_RATE_LIMIT: '5/s', RESCREEN_CONCURRENCY: '16' });
  runtime = await h.openRuntime();
});
afterEach(async () => {
  if (worker && worker.exitCode === null) {
    const closed = new Promise((resolve) => worker!.once('close', resolve));
    worker.kill('SIGTERM');
    await closed;
  }
  worker = undefined;
  await h.close();
});

/** Enqueues 60 lines and starts a worker process; resolves once calls flow. */
async function running(batch: string): Promise<void> {
  for (let i = 1; i <= 60; i++) await h.file(`${batch}/p${i}.jpg`, sampleJpeg({ seed: 500 + i, directives: 'genuine' }));
  const manifest = await h.manifest(`${batch}.jsonl`, Array.from({ length: 60 }, (_, i) => ({ ref: `${batch}/p${i + 1}.jpg`, check: 'ooto-deepfake', subject: `s${i}` })));
  await enqueueBatch(runtime, { manifest, batch, maxCalls: 1000 });
  worker = startCli(['work'], h.env);
  await eventually(async () => h.sim.stats().totalCalls, (n) => n >= 4, 60_000);
}

/** Arrivals at the vendor later than `returnedAt` + the margin, after watching for 3 s (15 quota slots). */
async function lateCalls(returnedAt: number): Promise<number[]> {
  await new Promise((r) => setTimeout(r, 3_000));
  return h.sim.arrivals().ooto.filter((at) => at > returnedAt + MARGIN_MS);
}

describe('batch control at the moment a call leaves', () => {
  it('no call leaves after pause returns', async () => {
    await running('paused');
    await pauseBatch(runtime, 'paused');
    const returnedAt = Date.now();
    expect(await lateCalls(returnedAt)).toEqual([]);
    // Every call charged to the batch reached the vendor: a refused one was not sent.
    const budget = await batchBudget(runtime, (await runtime.store.summary('paused'))!);
    expect(budget.totalPaidCalls).toBe(h.sim.stats().totalCalls);
  });

  it('no call leaves after cancel returns', async () => {
    await running('cancelled');
    await cancelBatch(runtime, 'cancelled');
    const returnedAt = Date.now();
    expect(await lateCalls(returnedAt)).toEqual([]);
    const done = await eventually(() => runtime.store.summary('cancelled'), (s) => s !== null && s.recorded === 60);
    // Nothing lost: each line answered or CANCELLED, and only answered lines were paid for.
    expect(done!.byStatus.completed).toBe(h.sim.stats().totalCalls);
    expect(done!.byStatus.completed + done!.byStatus.failed).toBe(60);
  });

  it('no call leaves after a cap lowered to what was paid returns, while jobs wait for permits', async () => {
    await running('capped');
    const paid = (await batchBudget(runtime, (await runtime.store.summary('capped'))!)).totalPaidCalls;
    await raiseBudget(runtime, 'capped', { maxCalls: paid });
    const returnedAt = Date.now();
    expect(await lateCalls(returnedAt)).toEqual([]);
    const budget = await batchBudget(runtime, (await runtime.store.summary('capped'))!);
    expect(budget).toMatchObject({ budgetReached: true, totalPaidCalls: h.sim.stats().totalCalls });
  });
});
