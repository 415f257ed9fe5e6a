import {
  createMetrics,
  credentialedVendors,
  describeHeldBatch,
  describeHoldWithRemedy,
  pendingJobs,
  startWorkers,
  stillHeld,
  waitUntilIdle,
  type HeldBatch,
  type Runtime,
  type UnreachableVendor,
  type WorkerHandle,
} from '../../app/index.js';
import type { Vendor } from '../../app/index.js';
import { ExitCode } from '../cli-error.js';
import { startMetricsServer } from './serve.js';

export interface WorkArgs {
  readonly untilIdle?: boolean;
  readonly concurrency?: number;
  readonly vendors?: readonly Vendor[];
  /** Serve /metrics, /healthz, /readyz there while working. */
  readonly metrics?: { readonly port: number; readonly host: string };
}

/**
 * Closes the workers gracefully on SIGINT/SIGTERM (in-flight jobs finish and get their records);
 * a second signal exits at once with 130 (in-flight jobs come back later as stalled jobs: nothing is
 * lost). Returns a function that removes the handlers, and a signal that fires on the first one.
 */
export function onShutdownSignals(
  runtime: Runtime,
  handle: WorkerHandle,
  options: { onFirstSignal?: () => void } = {},
): { dispose(): void; signal: AbortSignal } {
  const controller = new AbortController();
  let signals = 0;
  const handler = (name: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      process.stderr.write(`rescreen: ${name} again: exiting now; unfinished jobs return to the queue as stalled jobs\n`);
      process.exit(ExitCode.INTERRUPTED);
    }
    // First the progress bar goes (cleared), so nothing draws over the lines below.
    options.onFirstSignal?.();
    process.stderr.write(`rescreen: ${name}: shutting down — taking no new jobs, finishing the ones in flight (${name} again to exit now)\n`);
    runtime.log.info({ signal: name }, 'shutting down');
    controller.abort();
    handle.close().catch((err: unknown) => runtime.log.error({ err }, 'error while closing workers'));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

/**
 * The one line an interrupted `work` / `run` ends with: what this process finished and what stays
 * queued for the next worker — or, for a batch held by a pause or a cap, what it waits for first.
 */
export async function reportInterrupted(runtime: Runtime, handle: WorkerHandle, finished?: string): Promise<void> {
  const queued = await pendingJobs(runtime);
  const counts = Object.entries(queued);
  const total = counts.reduce((n, [, c]) => n + c, 0);
  const each = counts.map(([vendor, n]) => `${vendor} ${n}`).join(', ');
  const held = total === 0 ? [] : await stillHeld(runtime, handle.pool.heldBatches).catch(() => []);
  const waits = held.map((h) => describeHoldWithRemedy(h.batch, h.hold, runtime.storeIdentity)).join('; ');
  process.stderr.write(
    `rescreen: interrupted — ${finished ?? `${handle.recordsWritten()} records written`}; ` +
      (total === 0
        ? 'nothing stays queued\n'
        : held.length === 0
          ? `${total} jobs stay queued (${each}): \`rescreen work\` finishes them\n`
          : `${total} jobs stay queued (${each}); ${waits}: then \`rescreen work\` finishes them\n`),
  );
}

/**
 * What `work --until-idle` leaves queued on purpose: one line per held batch. Returns the exit code:
 * 2 when a batch belongs to another result store (this worker's configuration is wrong), else 0.
 */
export function reportHeldBatches(runtime: Runtime, held: readonly HeldBatch[]): number {
  for (const h of held) process.stderr.write(`rescreen: ${describeHeldBatch(h, runtime.storeIdentity)}\n`);
  return held.some((h) => h.hold.kind === 'store') ? ExitCode.USAGE : ExitCode.OK;
}

/** One line per vendor that stayed unreachable longer than RESCREEN_BREAKER_ALERT_MS: its lines stay queued. */
export function reportUnreachable(runtime: Runtime, unreachable: readonly UnreachableVendor[]): void {
  for (const u of unreachable) {
    const spec = runtime.config.vendors[u.vendor]?.spec;
    const check = spec?.baseUrlVar ?? 'its base URL';
    const jobs = `${u.jobs} ${u.jobs === 1 ? 'job stays' : 'jobs stay'} queued`;
    process.stderr.write(`rescreen: ${u.reason}. ${jobs}: \`rescreen work\` sends them once ${spec?.label ?? u.vendor} answers (check ${check} and the route to it)\n`);
  }
}

/**
 * Of `vendors`, those with jobs queued when every one of them has been unreachable for longer than
 * RESCREEN_BREAKER_ALERT_MS (none while any other of them still has jobs to run): `run`'s batch
 * cannot finish now.
 */
export async function unreachableLeft(handle: WorkerHandle, vendors: ReadonlySet<Vendor>): Promise<UnreachableVendor[]> {
  const [down, pending] = await Promise.all([handle.pool.unreachable(), handle.pool.pendingCounts()]);
  const waiting = [...vendors].filter((v) => (pending[v] ?? 0) > 0 && !handle.pool.stoppedVendors.has(v));
  if (waiting.length === 0 || waiting.some((v) => !down.has(v))) return [];
  return waiting.map((vendor) => ({ vendor, jobs: pending[vendor] ?? 0, reason: down.get(vendor) ?? vendor }));
}

/** One line per vendor that refused our credentials, naming its credential variables (from its definition). */
export function reportStoppedVendors(runtime: Runtime, stopped: readonly Vendor[]): void {
  for (const vendor of stopped) {
    const spec = runtime.config.vendors[vendor]?.spec;
    const fix = spec ? Object.values(spec.credentials).join(', ') : `${vendor}'s credentials`;
    process.stderr.write(`rescreen: ${spec?.label ?? vendor} refused our credentials — its jobs stay queued; fix ${fix} and run the worker again\n`);
  }
}

/**
 * `work`'s exit once its workers closed. A SIGTERM/SIGINT that let the calls in flight finish is the
 * normal way to stop a worker (systemd, containers): 0, like an idle exit; only a vendor that refused
 * our credentials makes it 3. (A second signal exits 130 from the handler, before this.)
 */
function finishedCode(stopped: readonly Vendor[]): number {
  return stopped.length > 0 ? ExitCode.VENDOR_STOPPED : ExitCode.OK;
}

/** `rescreen work`: runs until a signal, or with --until-idle until nothing is left to do. Returns the exit code. */
export async function work(runtime: Runtime, args: WorkArgs): Promise<number> {
  const vendors = await credentialedVendors(runtime, args.vendors ?? runtime.vendors.map((v) => v.name));
  const metrics = args.metrics ? createMetrics(runtime) : undefined;
  const stopMetrics = metrics && args.metrics ? await startMetricsServer(runtime, metrics, args.metrics.port, args.metrics.host) : undefined;
  const handle = startWorkers(runtime, {
    ...(args.concurrency !== undefined ? { concurrency: args.concurrency } : {}),
    vendors,
    ...(metrics ? { metrics } : {}),
  });
  const shutdown = onShutdownSignals(runtime, handle);
  runtime.log.info({ vendors: handle.pool.vendors, untilIdle: args.untilIdle ?? false }, 'workers started');
  try {
    if (args.untilIdle) {
      const { stopped, held, unreachable } = await waitUntilIdle(handle.pool, { signal: shutdown.signal, also: [handle.schedules, handle.review, ...(handle.notifications ? [handle.notifications] : [])] });
      await handle.close();
      reportStoppedVendors(runtime, stopped);
      if (shutdown.signal.aborted) {
        await reportInterrupted(runtime, handle);
        return finishedCode(stopped);
      }
      reportUnreachable(runtime, unreachable);
      const heldCode = reportHeldBatches(runtime, held);
      // A vendor nobody could reach is no "done": a nightly job must not look green with its lines unscreened.
      return stopped.length > 0 ? ExitCode.VENDOR_STOPPED : unreachable.length > 0 ? ExitCode.USAGE : heldCode;
    }
    await new Promise<void>((resolve) => {
      shutdown.signal.addEventListener('abort', () => resolve(), { once: true });
      handle.pool.on('vendor-stopped', () => {
        if (handle.pool.vendors.every((v) => handle.pool.stoppedVendors.has(v))) resolve();
      });
    });
    await handle.close();
    const stopped = [...handle.pool.stoppedVendors.keys()];
    reportStoppedVendors(runtime, stopped);
    if (shutdown.signal.aborted) await reportInterrupted(runtime, handle);
    return finishedCode(stopped);
  } finally {
    shutdown.dispose();
    await stopMetrics?.();
  }
}
