/**
 * The BullMQ side of the worker: one Worker per vendor queue, with that vendor's limiter, and the
 * translation of a job runner step into BullMQ's vocabulary (return, throw for a retry with backoff,
 * UnrecoverableError for a final record, RateLimitError to requeue without spending an attempt).
 */
import { EventEmitter } from 'node:events';
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RateLimit } from '../config/rate-limit.js';
import type { WorkerTuning } from '../config/config.js';
import { VENDORS, type Vendor } from '../checks/registry.js';
import type { JobPayload } from '../checks/types.js';
import { AuthenticationError, type VendorError } from '../errors/errors.js';
import { countJobs } from './idle.js';
import { recordLostJob, runJob, type JobRunnerDeps } from './job-runner.js';
import { queueName } from './names.js';

/**
 * BullMQ ignores a manual `rateLimit()` on a queue whose workers have no limiter, so a vendor without
 * a configured quota still gets one, too large to ever bind (the 429 path needs it).
 */
const UNBOUNDED_LIMITER = { max: 1_000_000, duration: 1_000 } as const;

/**
 * Added to the window of a configured quota, ms. BullMQ's window opens when its first job becomes
 * active; the vendor's opens when the first call arrives, after that job's record look-up, media read
 * and request, and that delay varies: by ±10 ms from window to window, and by 20 ms more in the very
 * first window (cold connections and code). Without a guard, the first calls of a window that travel
 * faster than the previous window's first one land in the vendor's previous window and are refused
 * with 429, and each 429 pauses the whole queue for Retry-After (OOTO: whole seconds, so about one
 * window lost). bench/ scenario (c), 40/s: 4–8% of the calls refused and 0.80 of the quota used with
 * no guard; a 429 in about every other run with 25–30 ms; none with 40 ms, which uses 0.96 of it.
 */
export const RATE_LIMIT_GUARD_MS = 40;

export interface WorkerPoolOptions {
  readonly redisUrl: string;
  readonly prefix: string;
  /** Vendors to work for; default both. */
  readonly vendors?: readonly Vendor[];
  readonly tuning: WorkerTuning;
  /** Concurrent jobs per vendor queue in this process; default `tuning.concurrency`. */
  readonly concurrency?: number;
  readonly rateLimits: Readonly<Record<Vendor, RateLimit | undefined>>;
  readonly runner: JobRunnerDeps;
  readonly log: Logger;
}

/** Events: `vendor-stopped` (vendor, error) when a vendor refused our credentials. */
export class WorkerPool extends EventEmitter<{ 'vendor-stopped': [Vendor, VendorError] }> {
  private readonly workers = new Map<Vendor, Worker<JobPayload>>();
  private readonly queues = new Map<Vendor, Queue<JobPayload>>();
  private readonly connections: Redis[] = [];
  private readonly stopped = new Map<Vendor, VendorError>();
  private closing: Promise<void> | undefined;

  constructor(private readonly options: WorkerPoolOptions) {
    super();
  }

  /** Starts one worker per vendor. */
  start(): this {
    const { options } = this;
    for (const vendor of options.vendors ?? VENDORS) {
      const queue = new Queue<JobPayload>(queueName(vendor), { connection: this.connection(), prefix: options.prefix });
      const limit = options.rateLimits[vendor];
      const worker = new Worker<JobPayload>(queueName(vendor), (job) => this.process(vendor, job), {
        connection: this.connection(),
        prefix: options.prefix,
        concurrency: options.concurrency ?? options.tuning.concurrency,
        limiter: limit ? { max: limit.max, duration: limit.durationMs + RATE_LIMIT_GUARD_MS } : UNBOUNDED_LIMITER,
        lockDuration: options.tuning.lockDurationMs,
        stalledInterval: options.tuning.stalledIntervalMs,
        maxStalledCount: options.tuning.maxStalledCount,
        autorun: true,
      });
      worker.on('error', (error) => options.log.error({ vendor, err: error }, 'worker error'));
      worker.on('stalled', (jobId) => options.log.warn({ vendor, jobId }, 'job stalled (its worker died?); it goes back to wait'));
      worker.on('failed', (job, error) => {
        if (job?.deferredFailure !== undefined) {
          // Failed by BullMQ itself, without running our processor: the line still needs its record.
          const attempt = { payload: job.data, attempt: job.attemptsMade + 1, maxAttempts: job.opts.attempts ?? 1 };
          recordLostJob(attempt, job.deferredFailure, options.runner)
            .then((record) => record && options.log.error({ vendor, batch: record.batch, line: record.line }, 'job given up by BullMQ; failed record written'))
            .catch((err: unknown) => options.log.error({ vendor, jobId: job.id, err }, 'could not record a job BullMQ gave up'));
        } else if (!(error instanceof UnrecoverableError)) {
          options.log.debug({ vendor, jobId: job?.id, attemptsMade: job?.attemptsMade, err: error.message }, 'attempt failed');
        }
      });
      this.queues.set(vendor, queue);
      this.workers.set(vendor, worker);
    }
    return this;
  }

  /** Vendors whose credentials were refused (401/403), with the error. Their jobs stay queued. */
  get stoppedVendors(): ReadonlyMap<Vendor, VendorError> {
    return this.stopped;
  }

  /** Vendors this pool works for. */
  get vendors(): Vendor[] {
    return [...this.workers.keys()];
  }

  /** Jobs not yet finished per vendor queue (waiting, active, delayed, prioritized, paused). */
  async pendingCounts(): Promise<Record<Vendor, number>> {
    const out = { ooto: 0, glair: 0 } satisfies Record<Vendor, number>;
    await Promise.all(
      [...this.queues].map(async ([vendor, queue]) => {
        out[vendor] = await countJobs(queue, 'wait', 'active', 'delayed', 'prioritized', 'paused', 'waiting-children');
      }),
    );
    return out;
  }

  /**
   * Stops taking jobs; waits for the ones in flight (their records get written), unless `force`:
   * then in-flight jobs are abandoned and come back as stalled jobs to another worker.
   */
  close(force = false): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([...this.workers.values()].map((w) => w.close(force)));
      await Promise.all([...this.queues.values()].map((q) => q.close()));
      await Promise.all(this.connections.map((c) => c.quit().catch(() => c.disconnect())));
    })();
    return this.closing;
  }

  private connection(): Redis {
    const client = new Redis(this.options.redisUrl, { maxRetriesPerRequest: null });
    client.on('error', (error) => this.options.log.debug({ err: error.message }, 'redis connection error'));
    this.connections.push(client);
    return client;
  }

  private async process(vendor: Vendor, job: Job<JobPayload>): Promise<{ status: string }> {
    const { runner, log } = this.options;
    const step = await runJob(
      { payload: job.data, attempt: job.attemptsMade + 1, maxAttempts: job.opts.attempts ?? 1 },
      runner,
    );
    switch (step.kind) {
      case 'recorded': {
        const { record } = step;
        log.debug(
          { batch: record.batch, line: record.line, check: record.check, status: record.status, transactionId: record.transactionId },
          'record stored',
        );
        if (record.status === 'completed') return { status: record.status };
        // Final: no BullMQ retry. The record is stored; removeOnFail drops the job.
        throw new UnrecoverableError(`${record.status}: ${String(record.error?.code ?? '')}`);
      }
      case 'skipped':
        log.debug({ batch: job.data.batch, line: job.data.line }, 'already recorded; no vendor call');
        return { status: 'skipped' };
      case 'retry':
        // BullMQ retries with exponential backoff and jitter; the error's message is safe to keep.
        throw step.error instanceof Error ? step.error : new Error(String(step.error));
      case 'rate-limited': {
        log.info({ vendor, delayMs: step.delayMs, timesLimited: step.timesLimited, jobId: job.id }, 'vendor answered 429; queue paused');
        await job.updateData({ ...job.data, rateLimited: step.timesLimited });
        await this.queues.get(vendor)?.rateLimit(step.delayMs);
        throw Worker.RateLimitError();
      }
      case 'stop-vendor':
        this.stopVendor(vendor, step.error);
        // Back to wait without spending an attempt; this worker takes no more of them.
        throw Worker.RateLimitError();
    }
  }

  private stopVendor(vendor: Vendor, error: VendorError): void {
    if (this.stopped.has(vendor)) return;
    this.stopped.set(vendor, error);
    const what = error instanceof AuthenticationError ? 'refused our credentials (401)' : 'denied access (403)';
    this.options.log.fatal(
      { vendor, code: error.code, transactionId: error.transactionId },
      `${vendor.toUpperCase()} ${what}: stopped taking ${vendor} jobs; they stay queued. Fix the ${vendor.toUpperCase()}_* credentials and start the worker again.`,
    );
    this.workers
      .get(vendor)
      ?.pause(true)
      .catch((err: unknown) => this.options.log.error({ vendor, err }, 'could not pause worker'));
    this.emit('vendor-stopped', vendor, error);
  }
}
