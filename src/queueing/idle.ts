import { setTimeout as sleep } from 'node:timers/promises';
import type { JobType, Queue } from 'bullmq';
import type { JobPayload } from '../checks/types.js';
import type { Vendor } from '../vendors/types.js';
import type { BatchHold } from '../money/batch-budget.js';

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

/** A batch whose queued jobs wait for it, not for a worker: paused, at a cap, or of another store. */
export interface HeldBatch {
  readonly batch: string;
  readonly hold: Exclude<BatchHold, { kind: 'cancelled' }>;
  /** Its jobs queued (one a line). */
  readonly jobs: number;
}

/** Jobs read per page while looking through delayed jobs. */
const PAGE = 1_000;

/**
 * When every unfinished job of `queues` is a delayed job of a batch that `look` says is held,
 * those batches; null when some job could run now or soon (waiting, active, or delayed for a reason
 * of its own: a retry's backoff, a 429). Reads every delayed job, so only once nothing else is left.
 */
export async function heldBacklog(queues: readonly Queue<JobPayload>[], look: (batch: string) => Promise<BatchHold | null>): Promise<HeldBatch[] | null> {
  for (const queue of queues) {
    if ((await countJobs(queue, ...UNFINISHED_STATES.filter((s) => s !== 'delayed'))) > 0) return null;
  }
  const jobs = new Map<string, number>();
  for (const queue of queues) {
    for (let start = 0; ; start += PAGE) {
      const page = (await queue.getJobs(['delayed'], start, start + PAGE - 1, true)) as ({ data: JobPayload } | undefined)[];
      for (const job of page) if (job) jobs.set(job.data.batch, (jobs.get(job.data.batch) ?? 0) + 1);
      if (page.length < PAGE) break;
    }
  }
  const held: HeldBatch[] = [];
  for (const [batch, n] of jobs) {
    const hold = await look(batch);
    if (hold === null || hold.kind === 'cancelled') return null;
    held.push({ batch, hold, jobs: n });
  }
  return held;
}

/** What {@link waitUntilIdle} asks of the worker pool (implemented by WorkerPool). */
export interface IdlePool {
  readonly vendors: readonly Vendor[];
  readonly stoppedVendors: ReadonlyMap<Vendor, unknown>;
  pendingCounts(): Promise<Record<Vendor, number>>;
  /** {@link heldBacklog} of the queues of the vendors it works for (whose credentials stand, not in `skip`). */
  heldBacklog(skip?: ReadonlySet<Vendor>): Promise<HeldBatch[] | null>;
  /** Vendors whose breaker has been open longer than RESCREEN_BREAKER_ALERT_MS, each with a line saying so. */
  unreachable(): Promise<ReadonlyMap<Vendor, string>>;
}

/** A vendor that stayed unreachable (its breaker open longer than the alert setting) with jobs queued. */
export interface UnreachableVendor {
  readonly vendor: Vendor;
  /** Its jobs not finished: they stay queued. */
  readonly jobs: number;
  /** What its breaker says (src/quota/breaker-state.ts describeBreaker). */
  readonly reason: string;
}

/** Why {@link waitUntilIdle} returned. */
export interface IdleOutcome {
  /** Vendors whose credentials were refused: their jobs stay queued. */
  readonly stopped: Vendor[];
  /** Batches whose jobs are all that is left, each held by its batch (paused, capped, another store). */
  readonly held: HeldBatch[];
  /** Vendors unreachable for longer than RESCREEN_BREAKER_ALERT_MS whose jobs are the rest: they stay queued. */
  readonly unreachable: UnreachableVendor[];
}

/** Other work that keeps a worker busy (the `schedules` worker: due or running firings). */
export interface PendingWork {
  pendingCount(): Promise<number>;
}

/**
 * Resolves once no job is waiting, delayed or active in the pool's queues — ignoring vendors whose
 * credentials were refused (their jobs stay queued on purpose), vendors unreachable for longer than
 * RESCREEN_BREAKER_ALERT_MS (their jobs stay queued for a later worker), and jobs of batches held by
 * a pause, a cap or another store (they wait for a person, not for a worker) — and `also` has
 * nothing pending, for two polls in a row.
 */
export async function waitUntilIdle(
  pool: IdlePool,
  options: { pollMs?: number; signal?: AbortSignal; also?: readonly PendingWork[] } = {},
): Promise<IdleOutcome> {
  const pollMs = options.pollMs ?? 500;
  let quietPolls = 0;
  let held: HeldBatch[] = [];
  let unreachable: UnreachableVendor[] = [];
  while (!options.signal?.aborted) {
    // `also` first: a firing that finishes between the two reads has already enqueued its jobs.
    const others = await Promise.all((options.also ?? []).map((w) => w.pendingCount()));
    const pending = await pool.pendingCounts();
    const down = await pool.unreachable();
    const skip = new Set([...down.keys()].filter((v) => !pool.stoppedVendors.has(v) && (pending[v] ?? 0) > 0));
    const queued = pool.vendors.some((v) => !pool.stoppedVendors.has(v) && !skip.has(v) && (pending[v] ?? 0) > 0);
    // null: something could still run; else the held batches (none when the queues are empty).
    const heldNow = others.some((n) => n > 0) ? null : queued ? await pool.heldBacklog(skip) : [];
    quietPolls = heldNow === null ? 0 : quietPolls + 1;
    held = heldNow ?? [];
    unreachable = [...skip].map((vendor) => ({ vendor, jobs: pending[vendor] ?? 0, reason: down.get(vendor) ?? vendor }));
    if (quietPolls >= 2) break;
    await sleep(pollMs);
  }
  return { stopped: [...pool.stoppedVendors.keys()], held, unreachable };
}
