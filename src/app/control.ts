/**
 * Batch control (README: Batch control): pause holds a batch's lines (no attempt spent) while other
 * batches run — checked as each call leaves, so none leaves once pause returns; resume lets them go
 * on at once; cancel ends the unsent lines `failed` (CANCELLED).
 */
import { InvalidInputError, NotFoundError } from '../errors/errors.js';
import { callsKey } from '../redis/keys.js';
import { readBatchState, setBatchState, type BatchState } from '../money/batch-terms.js';
import { resetFailureWindow } from '../money/failure-guard.js';
import { QUEUED_STATES } from '../queueing/idle.js';
import { forEachBatchJob } from '../queueing/inspect.js';
import { recordCancelledJob } from '../queueing/job-runner.js';
import { redactor, type Runtime } from '../runtime/runtime.js';
import { isBatchFinished } from '../store/types.js';

export type { BatchState } from '../money/batch-terms.js';

export interface ControlResult {
  readonly batch: string;
  readonly state: BatchState;
  /** resume: delayed jobs moved back to wait; cancel: queued jobs ended CANCELLED. */
  readonly jobs: number;
}

/** @throws NotFoundError for an unknown batch; InvalidInputError for a finished or cancelled one. */
export async function pauseBatch(runtime: Runtime, batch: string): Promise<ControlResult> {
  await mustBeRunning(runtime, batch, 'pause');
  await setBatchState(runtime.redis, callsKey(runtime.config.prefix, batch), 'paused');
  return { batch, state: 'paused', jobs: 0 };
}

/** @throws NotFoundError for an unknown batch; InvalidInputError unless it is paused. */
export async function resumeBatch(runtime: Runtime, batch: string): Promise<ControlResult> {
  await existing(runtime, batch);
  const key = callsKey(runtime.config.prefix, batch);
  const state = await readBatchState(runtime.redis, key);
  if (state !== 'paused') throw new InvalidInputError(`batch ${batch} is not paused (it is ${state})`);
  // Paused by its failure-rate guard: the lines counted before the fix no longer count.
  if ((await runtime.redis.hget(key, 'pause:by')) === 'failure-rate') await resetFailureWindow(runtime.redis, key);
  await setBatchState(runtime.redis, key, 'running');
  return { batch, state: 'running', jobs: await promoteHeldJobs(runtime, batch) };
}

/**
 * Brings the batch's delayed jobs back to wait now (after resume or raise), rather than at their
 * next look, which a long pause may have put minutes away. Returns how many.
 */
export async function promoteHeldJobs(runtime: Runtime, batch: string): Promise<number> {
  let promoted = 0;
  await forEachBatchJob(Object.values(runtime.queues), batch, ['delayed'], async (job) => {
    await job.promote().then(
      () => promoted++,
      () => undefined, // taken by a worker meanwhile
    );
  });
  return promoted;
}

/**
 * Ends every line of the batch not yet sent: queued jobs get their `failed` (CANCELLED) record now;
 * a line a worker holds ends so when it reaches its vendor call. Lines already answered keep their
 * records. `rescreen retry` sends the cancelled lines later.
 */
export async function cancelBatch(runtime: Runtime, batch: string): Promise<ControlResult> {
  await mustBeRunning(runtime, batch, 'cancel', true);
  await setBatchState(runtime.redis, callsKey(runtime.config.prefix, batch), 'cancelled');
  const deps = { store: runtime.store, redact: redactor(runtime.config) };
  let ended = 0;
  await forEachBatchJob(Object.values(runtime.queues), batch, QUEUED_STATES, async (job) => {
    try {
      await job.remove();
    } catch {
      return; // taken by a worker meanwhile: it ends the line itself
    }
    const written = await recordCancelledJob({ payload: job.data, attempt: job.attemptsMade, maxAttempts: job.maxAttempts ?? 1 }, deps);
    if (written) ended++;
  });
  return { batch, state: 'cancelled', jobs: ended };
}

/** The batch's state as `batch pause | resume | cancel` left it. */
export function batchState(runtime: Runtime, batch: string): Promise<BatchState> {
  return readBatchState(runtime.redis, callsKey(runtime.config.prefix, batch));
}

/** `rescreen retry` of a cancelled batch: it runs again. */
export async function reopenBatch(runtime: Runtime, batch: string): Promise<void> {
  const key = callsKey(runtime.config.prefix, batch);
  if ((await readBatchState(runtime.redis, key)) === 'cancelled') await setBatchState(runtime.redis, key, 'running');
}

async function existing(runtime: Runtime, batch: string) {
  const summary = await runtime.store.summary(batch);
  if (!summary) throw new NotFoundError(`no batch ${JSON.stringify(batch)}`);
  return summary;
}

async function mustBeRunning(runtime: Runtime, batch: string, verb: string, pausedToo = false): Promise<void> {
  const summary = await existing(runtime, batch);
  if (isBatchFinished(summary)) throw new InvalidInputError(`batch ${batch} is finished: nothing to ${verb}`);
  const state = await batchState(runtime, batch);
  if (state === 'cancelled') throw new InvalidInputError(`batch ${batch} is cancelled (rescreen retry runs its cancelled lines again)`);
  if (state === 'paused' && !pausedToo) throw new InvalidInputError(`batch ${batch} is paused already`);
}

