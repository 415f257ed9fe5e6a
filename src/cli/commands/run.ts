import { setTimeout as sleep } from 'node:timers/promises';
import { VENDORS, vendorOf, type Vendor } from '../../checks/registry.js';
import type { EnqueueSummary } from '../../queues/producer.js';
import { startWorkers, type Runtime } from '../../runtime/runtime.js';
import type { BatchSummary } from '../../store/types.js';
import { ExitCode } from '../cli-error.js';
import { formatSummary, isFinished } from '../format.js';
import type { ProgressView } from '../progress.js';
import { enqueue, printEnqueueSummary, type EnqueueArgs } from './enqueue.js';
import { credentialedVendors, onShutdownSignals, reportInterrupted, reportStoppedVendors } from './work.js';

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
  const enqueued = await enqueue(runtime, args);
  printEnqueueSummary(enqueued, false);
  const required = new Set<Vendor>(
    Object.entries(enqueued.byCheck)
      .filter(([, n]) => n > 0)
      .map(([check]) => vendorOf(check as Parameters<typeof vendorOf>[0])),
  );
  const vendors = await credentialedVendors(runtime, VENDORS, required);
  const handle = startWorkers(runtime, { vendors, ...(args.concurrency !== undefined ? { concurrency: args.concurrency } : {}) });
  const shutdown = onShutdownSignals(runtime, handle, { onFirstSignal: () => args.progress?.stop({ clear: true }) });
  const needed = new Set<Vendor>(
    Object.entries(enqueued.byCheck)
      .filter(([, n]) => n > 0)
      .map(([check]) => vendorOf(check as Parameters<typeof vendorOf>[0])),
  );
  let summary: BatchSummary | null = null;
  try {
    for (;;) {
      summary = await runtime.store.summary(enqueued.batch);
      if (summary) args.progress?.update(summary);
      if (summary && isFinished(summary)) break;
      if (shutdown.signal.aborted) break;
      const stopped = [...handle.pool.stoppedVendors.keys()];
      if (stopped.some((v) => needed.has(v))) {
        // Jobs of a vendor that refused our credentials stay queued: the batch cannot finish now.
        break;
      }
      await sleep(250);
    }
    // Give the completion webhook (if any) a moment to go out before the workers close; an undelivered
    // one stays queued and the next `rescreen work` delivers it.
    if (summary && isFinished(summary) && handle.notifications) {
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && (await handle.notifications.pendingCount()) > 0) await sleep(200);
    }
  } finally {
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
  reportStoppedVendors(stopped);
  const exitCode = shutdown.signal.aborted
    ? ExitCode.INTERRUPTED
    : stopped.some((v) => needed.has(v))
      ? ExitCode.VENDOR_STOPPED
      : ExitCode.OK;
  return { exitCode, enqueued, summary };
}
