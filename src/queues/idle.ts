import { setTimeout as sleep } from 'node:timers/promises';
import type { JobType, Queue } from 'bullmq';
import type { Vendor } from '../checks/registry.js';
import type { WorkerPool } from './worker-pool.js';

/** Jobs of `queue` in any of `states`, summed (one round trip). */
export async function countJobs(queue: Queue, ...states: JobType[]): Promise<number> {
  const counts = await queue.getJobCounts(...states);
  return Object.values(counts).reduce((a, b) => a + b, 0);
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
  pool: WorkerPool,
  options: { pollMs?: number; signal?: AbortSignal; also?: readonly PendingWork[] } = {},
): Promise<Vendor[]> {
  const pollMs = options.pollMs ?? 500;
  let quietPolls = 0;
  while (!options.signal?.aborted) {
    // `also` first: a firing that finishes between the two reads has already enqueued its jobs.
    const others = await Promise.all((options.also ?? []).map((w) => w.pendingCount()));
    const pending = await pool.pendingCounts();
    const busy = others.some((n) => n > 0) || pool.vendors.some((v) => !pool.stoppedVendors.has(v) && pending[v] > 0);
    quietPolls = busy ? 0 : quietPolls + 1;
    if (quietPolls >= 2) break;
    await sleep(pollMs);
  }
  return [...pool.stoppedVendors.keys()];
}
