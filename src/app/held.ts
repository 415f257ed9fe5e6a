/**
 * Batches whose lines wait for a person, not for a worker — paused, at a cap, or enqueued into
 * another result store — as `work --until-idle`, `run` and an interrupted worker tell it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { BatchHold } from '../money/batch-budget.js';
import type { HeldBatch } from '../queueing/idle.js';
import type { Runtime } from '../runtime/runtime.js';

export type { BatchHold } from '../money/batch-budget.js';
export type { HeldBatch } from '../queueing/idle.js';

/** What to do about a hold: `rescreen batch resume q3`, `rescreen batch raise q3 …`, a worker on the batch's store. */
function remedy(batch: string, hold: BatchHold): string {
  switch (hold.kind) {
    case 'paused':
      return `rescreen batch resume ${batch}`;
    case 'budget':
      return `rescreen batch raise ${batch} --max-calls N / --max-spend X`;
    case 'store':
      return `a worker with that store's RESCREEN_STORE_URL finishes them`;
    case 'cancelled':
      return `its unsent lines end CANCELLED; rescreen retry ${batch} sends them`;
  }
}

/** `batch q3 is paused`, `batch q3 is at its --max-calls cap`, `batch q3 was enqueued into the result store …`. */
export function describeHold(batch: string, hold: BatchHold, store: string): string {
  switch (hold.kind) {
    case 'paused':
      return hold.by === 'failure-rate' ? `batch ${batch} was paused by its failure-rate guard (--max-failure-rate: too many lines failed)` : `batch ${batch} is paused`;
    case 'budget':
      return `batch ${batch} is at its --max-${hold.cap} cap`;
    case 'store':
      return `batch ${batch} was enqueued into the result store ${hold.recorded}; this worker uses ${store}`;
    case 'cancelled':
      return `batch ${batch} is cancelled`;
  }
}

/** One line per held batch for `work --until-idle`: `batch q3 is paused: 20 lines wait (rescreen batch resume q3)`. */
export function describeHeldBatch(held: HeldBatch, store: string): string {
  const lines = `${held.jobs} ${held.jobs === 1 ? 'line waits' : 'lines wait'}`;
  return `${describeHold(held.batch, held.hold, store)}: ${lines} (${remedy(held.batch, held.hold)})`;
}

/** The hold and what to do about it, for a line that says what stays queued. */
export function describeHoldWithRemedy(batch: string, hold: BatchHold, store: string): string {
  return `${describeHold(batch, hold, store)} (${remedy(batch, hold)})`;
}

/** Why the batch's lines may not call now (null: they may). */
export function batchHold(runtime: Runtime, batch: string): Promise<BatchHold | null> {
  return runtime.callLedger.look(batch);
}

/** Of `batches`, those still held now (paused, capped, of another store), with why. */
export async function stillHeld(runtime: Runtime, batches: Iterable<string>): Promise<{ batch: string; hold: BatchHold }[]> {
  const out: { batch: string; hold: BatchHold }[] = [];
  for (const batch of batches) {
    const hold = await batchHold(runtime, batch);
    if (hold !== null && hold.kind !== 'cancelled') out.push({ batch, hold });
  }
  return out;
}

/**
 * Calls `onChange` when the batch becomes held (paused, at a cap) or goes on again, looking every
 * `pollMs` until `signal` aborts. For `run`, which would otherwise look hung at a cap.
 */
export async function watchBatchHold(
  runtime: Runtime,
  batch: string,
  onChange: (hold: BatchHold | null) => void,
  options: { signal: AbortSignal; pollMs?: number },
): Promise<void> {
  let last: string | null = null;
  while (!options.signal.aborted) {
    const hold = await batchHold(runtime, batch).catch(() => undefined);
    if (hold !== undefined) {
      const now = hold === null || hold.kind === 'cancelled' ? null : JSON.stringify(hold);
      if (now !== last) {
        // Nothing is said until the batch is first held.
        if (now !== null || last !== null) onChange(now === null ? null : hold);
        last = now;
      }
    }
    await sleep(options.pollMs ?? 1_000, undefined, { signal: options.signal }).catch(() => undefined);
  }
}
