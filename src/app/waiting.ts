/** Why a batch is slow or still: what `status` tells besides the counts. */
import type { Vendor } from '../vendors/types.js';
import { readHeartbeats } from '../quota/capacity.js';
import type { Runtime } from '../runtime/runtime.js';
import type { BatchSummary } from '../store/types.js';
import type { BatchBudget } from './budget.js';
import type { BatchState } from './control.js';
import { describeGuardPause } from './guard.js';

/** One sentence per reason the batch's lines wait; none for a finished batch. (Quota waits are the quota lines.) */
export async function whyWaiting(
  runtime: Runtime,
  summary: BatchSummary,
  state: BatchState,
  budget: BatchBudget,
  pending: Readonly<Record<Vendor, number>>,
): Promise<string[]> {
  const out: string[] = [];
  const batch = summary.batch;
  if (state === 'paused') out.push(describeGuardPause(batch, budget) ?? `paused: its lines wait (rescreen batch resume ${batch})`);
  if (state === 'cancelled') out.push(`cancelled: its unsent lines end CANCELLED (rescreen retry ${batch} sends them)`);
  if (budget.budgetReached) out.push(`budget reached: its lines wait (rescreen batch raise ${batch} --max-calls N / --max-spend X)`);
  const queued = Object.values(pending).reduce((a, b) => a + b, 0);
  const mine = Math.max(0, (summary.producerDone ? summary.total : summary.maxLine) - summary.recorded);
  const others = queued - mine;
  if (others > 0 && mine > 0) out.push(`the queues also hold about ${others} jobs of other batches; the workers take jobs oldest first`);
  if (mine > 0 && (await readHeartbeats(runtime.redis, runtime.config.prefix)).length === 0) {
    out.push('no worker is running: start one with rescreen work');
  }
  return out;
}
