/**
 * What the job runner decides for a job of a held batch, before any work: a paused or capped batch's
 * job waits twice as long at each look (up to HELD_MAX_MS); a batch of another store is not looked
 * up in this worker's store at all and waits a flat recheck; a cancelled one ends CANCELLED unless
 * the line has its record.
 */
import { describe, expect, it } from 'vitest';
import type { ProcessorDeps } from '../../../src/checks/processor.js';
import type { JobPayload } from '../../../src/checks/types.js';
import type { BatchHold } from '../../../src/money/batch-budget.js';
import { MemoryCallLedger } from '../../../src/money/call-budget.js';
import { runJob, type JobRunnerDeps } from '../../../src/queueing/job-runner.js';
import { HELD_MAX_MS } from '../../../src/queueing/wait-steps.js';
import { BUILT_INS } from '../../../src/runtime/built-ins.js';
import { MemoryStore } from '../../helpers/memory-store.js';

const payload: JobPayload = { batch: 'b1', line: 3, check: 'ooto-deepfake', subject: 'cust-1', ref: 'a.jpg', baseDir: '/m' };

/** A ledger whose batch is held as told; the store counts its reads. */
function deps(hold: BatchHold | null): JobRunnerDeps & { store: MemoryStore; reads: () => number } {
  const ledger = new MemoryCallLedger();
  ledger.look = () => Promise.resolve(hold);
  const store = new MemoryStore();
  let reads = 0;
  const get = store.get.bind(store);
  store.get = (batch, line) => {
    reads += 1;
    return get(batch, line);
  };
  return {
    store,
    reads: () => reads,
    checks: BUILT_INS.checks,
    depsFor: (): ProcessorDeps => {
      throw new Error('no media is loaded and no client used for a held job');
    },
    maxRateLimited: 2,
    rateLimitBackoff: { baseMs: 1000, maxMs: 60_000 },
    redact: (t) => t,
    callBudget: { ledger, maxCallsPerLine: 4 },
    heldRecheckMs: 5_000,
  };
}

describe('a job of a held batch', () => {
  it('paused: waits 5 s, then twice as long at each look, up to the longest wait', async () => {
    const d = deps({ kind: 'paused' });
    expect(await runJob({ payload, attempt: 1, maxAttempts: 5 }, d)).toMatchObject({ kind: 'held', hold: 'paused', delayMs: 5_000, times: 1 });
    expect(await runJob({ payload: { ...payload, held: 3 }, attempt: 1, maxAttempts: 5 }, d)).toMatchObject({ delayMs: 40_000, times: 4 });
    expect(await runJob({ payload: { ...payload, held: 40 }, attempt: 1, maxAttempts: 5 }, d)).toMatchObject({ delayMs: HELD_MAX_MS, times: 41 });
  });

  it('at a cap: the same, naming the cap', async () => {
    const step = await runJob({ payload: { ...payload, held: 1 }, attempt: 2, maxAttempts: 5 }, deps({ kind: 'budget', cap: 'spend' }));
    expect(step).toMatchObject({ kind: 'held', hold: 'budget', delayMs: 10_000, times: 2 });
    expect((step as { reason: string }).reason).toBe('batch b1: budget reached (--max-spend); raise it with rescreen batch raise b1');
  });

  it('of another store: a flat wait, and this worker never reads its own store for it', async () => {
    const d = deps({ kind: 'store', recorded: 'postgres://db:5432/x?schema=y' });
    const step = await runJob({ payload: { ...payload, held: 9 }, attempt: 1, maxAttempts: 5 }, d);
    expect(step).toEqual({
      kind: 'held',
      hold: 'store',
      delayMs: 5_000,
      reason: 'batch b1 was enqueued into the result store postgres://db:5432/x?schema=y: its jobs wait for a worker on that store',
    });
    expect(d.reads()).toBe(0);
  });

  it('cancelled: ends CANCELLED, unless the line already has its record', async () => {
    const d = deps({ kind: 'cancelled' });
    expect(await runJob({ payload, attempt: 1, maxAttempts: 5 }, d)).toMatchObject({ kind: 'recorded', record: { status: 'failed', error: { code: 'CANCELLED' } } });
    expect(await runJob({ payload, attempt: 1, maxAttempts: 5 }, d)).toMatchObject({ kind: 'skipped' });
  });
});
