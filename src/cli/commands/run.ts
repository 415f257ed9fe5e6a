import { setTimeout as sleep } from 'node:timers/promises';
import {
  credentialedVendors,
  describeHoldWithRemedy,
  enqueueBatch,
  isFinished,
  startWorkers,
  vendorsOf,
  waitForBatch,
  watchBatchHold,
  type BatchHold,
  type Runtime,
  type UnreachableVendor,
} from '../../app/index.js';
import type { EnqueueSummary } from '../../app/index.js';
import type { BatchSummary } from '../../app/index.js';
import { ExitCode } from '../cli-error.js';
import { formatSummary } from '../format.js';
import type { ProgressView } from '../progress.js';
import { printEnqueueSummary, type EnqueueArgs } from './enqueue.js';
import { onShutdownSignals, reportInterrupted, reportStoppedVendors, reportUnreachable, unreachableLeft } from './work.js';

export interface RunArgs extends Omit<EnqueueArgs, 'dryRun'> {
  readonly concurrency?: number;
  /** Shown every poll with the batch's summary, stopped before the final summary is printed. */
  readonly progress?: ProgressView;
}

export interface RunResult {
  readonly exitCode: number;
  readonly enqueued: EnqueueSummary;
  readonly summary: BatchSummary | null;
}

/**
 * `rescreen run`: enqueue, work until that batch has a record for every line, print a summary.
 * Workers take jobs of other batches too (the queues are shared): that is fine and expected.
 */
export async function runBatch(runtime: Runtime, args: RunArgs): Promise<RunResult> {
  const enqueued = await enqueueBatch(runtime, { ...args, window: false });
  printEnqueueSummary(enqueued, false);
  const needed = vendorsOf(enqueued, (check) => runtime.checks.vendorOf(check));
  const vendors = await credentialedVendors(runtime, runtime.vendors.map((v) => v.name), needed);
  const handle = startWorkers(runtime, { vendors, ...(args.concurrency !== undefined ? { concurrency: args.concurrency } : {}) });
  const shutdown = onShutdownSignals(runtime, handle, { onFirstSignal: () => args.progress?.stop({ clear: true }) });
  // A batch at its cap (or paused from elsewhere) would look hung: say so, and what lets it go on.
  const watching = new AbortController();
  const watcher = watchBatchHold(runtime, enqueued.batch, (hold) => sayHold(runtime, enqueued.batch, hold), {
    signal: AbortSignal.any([watching.signal, shutdown.signal]),
  });
  // Only jobs of vendors unreachable for longer than RESCREEN_BREAKER_ALERT_MS left: they stay queued, the run ends.
  let unreachable: UnreachableVendor[] = [];
  const looking = setInterval(() => void unreachableLeft(handle, needed).then((u) => (unreachable = u), () => undefined), 1_000);
  let summary: BatchSummary | null = null;
  try {
    summary = await waitForBatch(runtime, enqueued.batch, {
      signal: shutdown.signal,
      onProgress: (s) => args.progress?.update(s),
      // Jobs of a vendor that refused our credentials stay queued: the batch cannot finish now.
      stopWhen: () => [...handle.pool.stoppedVendors.keys()].some((v) => needed.has(v)) || unreachable.length > 0,
    });
    // Give the completion webhook (if any) a moment to go out before the workers close; an undelivered
    // one stays queued and the next `rescreen work` delivers it.
    // The batch's review cases open first (their case.opened webhooks join the notifications).
    if (summary && isFinished(summary)) {
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && (await handle.review.pendingCount()) > 0) await sleep(200);
      while (handle.notifications && Date.now() < deadline && (await handle.notifications.pendingCount()) > 0) await sleep(200);
    }
  } finally {
    clearInterval(looking);
    watching.abort();
    await watcher;
    args.progress?.stop();
    shutdown.dispose();
    await handle.close();
  }
  const stopped = [...handle.pool.stoppedVendors.keys()];
  summary = await runtime.store.summary(enqueued.batch);
  if (shutdown.signal.aborted) {
    // Interrupted: one line, what is done and what waits (the full summary is `rescreen status`).
    const done = summary
      ? `batch ${summary.batch}: ${summary.recorded} of ${summary.producerDone ? summary.total : `${summary.maxLine}+`} lines recorded ` +
        `(completed ${summary.byStatus.completed}, rejected ${summary.byStatus.rejected}, failed ${summary.byStatus.failed})`
      : undefined;
    await reportInterrupted(runtime, handle, done);
    return { exitCode: ExitCode.INTERRUPTED, enqueued, summary };
  }
  if (summary) process.stdout.write(`${formatSummary(summary)}\n`);
  reportStoppedVendors(runtime, stopped);
  const finished = summary !== null && isFinished(summary);
  if (!finished) reportUnreachable(runtime, unreachable);
  const exitCode = stopped.some((v) => needed.has(v)) ? ExitCode.VENDOR_STOPPED : !finished && unreachable.length > 0 ? ExitCode.USAGE : ExitCode.OK;
  return { exitCode, enqueued, summary };
}

/** `rescreen: batch q3 is at its --max-calls cap (rescreen batch raise …): its lines wait …`, and when it goes on. */
function sayHold(runtime: Runtime, batch: string, hold: BatchHold | null): void {
  const text =
    hold === null
      ? `batch ${batch} goes on`
      : `${describeHoldWithRemedy(batch, hold, runtime.storeIdentity)}: its lines wait — do that from another terminal, or press Ctrl-C (they stay queued)`;
  // On a terminal the progress bar owns the line: clear it; the bar redraws below.
  process.stderr.write(`${process.stderr.isTTY ? '\r\x1b[2K' : ''}rescreen: ${text}\n`);
}
