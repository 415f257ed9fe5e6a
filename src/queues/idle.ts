import { setTimeout as sleep } from 'node:timers/promises';
import type { JobType, Queue } from 'bullmq';
import type { Vendor } from '../errors/errors.js';

/**
 * The one list of BullMQ states a job is not finished in (it will still run, or runs now). A job
 * that waits for a quota slot or a 429 pause is in one of them too (`wait`, `delayed`).
 */
export const UNFINISHED_STATES: readonly JobType[] = ['wait', 'active', 'delayed', 'prioritized', 'paused', 'waiting-children'];

/** Of those, the states of a job no worker holds yet: it waits in Redis (the producer window counts them; cancel sweeps them). */
export const QUEUED_STATES: readonly JobType[] = UNFINISHED_STATES.filter((s) => s !== 'active');

/** Jobs of `queue` not finished yet (see {@link UNFINISHED_STATES}). */
export function pendingJobCount(queue: Queue): Promise<number> {
  return countJobs(queue, ...UNFINISHED_STATES);
}

/** Jobs of `queue` in any of `states`, summed (one round trip). */
export async function countJobs(queue: Queue, ...states: JobType[]): Promise<number> {
  const counts = await queue.getJobCounts(...states);
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

/** What {@link waitUntilIdle} asks of the worker pool (implemented by WorkerPool). */
export interface IdlePool {
  readonly vendors: readonly Vendor[];
  readonly stoppedVendors: ReadonlyMap<Vendor, unknown>;
  pendingCounts(): Promise<Record<Vendor, number>>;
}

/** Other work that keeps a worker busy (the `schedules` worker: due or running firings). */
export interface PendingWork {
  pendingCount(): Promise<number>;
}

/**
 * Resolves once no job is waiting, delayed or active in the pool's queues — ignoring vendors whose
 * credentials were refused (their jobs stay queued on purpose) — and `also` has nothing pending,
 * for two polls in a row. Resolves with the vendors that were stopped.
 */
export async function waitUntilIdle(
  pool: IdlePool,
  options: { pollMs?: number; signal?: AbortSignal; also?: readonly PendingWork[] } = {},
): Promise<Vendor[]> {
  const pollMs = options.pollMs ?? 500;
  let quietPolls = 0;
  while (!options.signal?.aborted) {
    // `also` first: a firing that finishes between the two reads has already enqueued its jobs.
    const others = await Promise.all((options.also ?? []).map((w) => w.pendingCount()));
    const pending = await pool.pendingCounts();
    const busy = others.some((n) => n > 0) || pool.vendors.some((v) => !pool.stoppedVendors.has(v) && (pending[v] ?? 0) > 0);
    quietPolls = busy ? 0 : quietPolls + 1;
    if (quietPolls >= 2) break;
    await sleep(pollMs);
  }
  return [...pool.stoppedVendors.keys()];
}
