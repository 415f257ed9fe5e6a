import { setTimeout as sleep } from 'node:timers/promises';
import type { Vendor } from '../checks/registry.js';
import type { WorkerPool } from './worker-pool.js';

/**
 * Resolves once no job is waiting, delayed or active in the pool's queues — ignoring vendors whose
 * credentials were refused (their jobs stay queued on purpose) — for two polls in a row.
 * Resolves with the vendors that were stopped.
 */
export async function waitUntilIdle(pool: WorkerPool, options: { pollMs?: number; signal?: AbortSignal } = {}): Promise<Vendor[]> {
  const pollMs = options.pollMs ?? 500;
  let quietPolls = 0;
  while (!options.signal?.aborted) {
    const pending = await pool.pendingCounts();
    const busy = pool.vendors.some((v) => !pool.stoppedVendors.has(v) && pending[v] > 0);
    quietPolls = busy ? 0 : quietPolls + 1;
    if (quietPolls >= 2) break;
    await sleep(pollMs);
  }
  return [...pool.stoppedVendors.keys()];
}
