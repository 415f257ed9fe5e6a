/**
 * The BullMQ side of the worker: one Worker per vendor queue, with that vendor's limiter, and the
 * translation of a job runner step into BullMQ's vocabulary (return, throw for a retry with backoff,
 * UnrecoverableError for a final record, RateLimitError to requeue without spending an attempt).
 */
import { EventEmitter } from 'node:events';
import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { connectRedis } from '../redis/connect.js';
import type { Logger } from 'pino';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { VendorConfigSpec, WorkerTuning } from '../config/config.js';
import type { Admission } from '../quota/admission.js';
import { removeHeartbeat } from '../quota/capacity.js';
import type { Quota } from '../quota/spec.js';
import type { Vendor } from '../vendors/types.js';
import type { JobPayload } from '../checks/types.js';
import { AuthenticationError, type VendorError } from '../errors/errors.js';
import { heldBacklog, pendingJobCount, type HeldBatch } from './idle.js';
import { runJob, type JobRunnerDeps, type JobStep } from './job-runner.js';
import { onJobFailed } from './lost-jobs.js';
import { StoreOutage } from './store-outage.js';
import { poolTick } from './pool-tick.js';
import { QUEUE_STREAMS, queueName } from './names.js';
import type { Tracing } from '../telemetry/tracing.js';

/**
 * The quota is not BullMQ's limiter (a fixed window that opens when a job starts: with enough
 * concurrency all `max` jobs start at once) but the fleet's admission control, which each vendor
 * call passes (src/quota). BullMQ ignores a manual `rateLimit()` on a queue whose workers have no
 * limiter, so every worker gets one too large to ever bind: the requeue paths need it.
 */
const UNBOUNDED_LIMITER = { max: 1_000_000, duration: 1_000 } as const;

/** How often a pool re-sizes its concurrency and publishes its heartbeat, ms. */
const TICK_MS = 2_000;
/** A job that met a result store outage comes back after this long, ms. */
const STORE_RECHECK_MS = 2_000;

export interface WorkerPoolOptions {
  readonly redisUrl: string;
  readonly prefix: string;
  /** Vendors to work for (the runtime passes the registered ones, or `--vendor`'s). */
  readonly vendors: readonly Vendor[];
  /** Each vendor's label and credential variables (its definition), for messages. */
  readonly words: Readonly<Record<Vendor, Pick<VendorConfigSpec, 'label' | 'credentials'>>>;
  readonly tuning: WorkerTuning;
  /** Concurrent jobs per vendor queue in this process; default `tuning.concurrency`. */
  readonly concurrency?: number;
  /** Per vendor: the admission control its calls pass (latency, the fleet's clock). */
  readonly admissions: Readonly<Record<Vendor, Admission>>;
  /** The quota in force for a vendor now (environment or `rescreen limits set`). */
  readonly quotaOf: (vendor: Vendor) => Quota | undefined;
  readonly runner: JobRunnerDeps;
  /** This worker's result store identity (src/runtime/store.ts storeIdentity), for messages. */
  readonly store: string;
  readonly log: Logger;
  /** Tracing, when on (src/telemetry): BullMQ's telemetry for the workers, and the job span's attributes. */
  readonly tracing?: Pick<Tracing, 'bullmq' | 'annotate'>;
}

/** Events: `vendor-stopped` (vendor, error) when a vendor refused our credentials. */
export class WorkerPool extends EventEmitter<{ 'vendor-stopped': [Vendor, VendorError] }> {
  private readonly workers = new Map<Vendor, Worker<JobPayload>>();
  private readonly queues = new Map<Vendor, Queue<JobPayload>>();
  private readonly connections: Redis[] = [];
  private readonly stopped = new Map<Vendor, VendorError>();
  private readonly held = new Set<string>();
  /** Batches of another result store this process has reported (once each). */
  private readonly otherStoreBatches = new Set<string>();
  /** Vendors whose too-low concurrency this process has reported (once, until it is enough again). */
  private readonly shortfallLogged = new Set<Vendor>();
  private readonly id = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private timer: NodeJS.Timeout | undefined;
  /** The tick under way, awaited by close() so it never runs on closed connections. */
  private ticking: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private readonly storeOutage: StoreOutage;

  constructor(private readonly options: WorkerPoolOptions) {
    super();
    this.storeOutage = new StoreOutage({
      workers: () => [...this.workers].filter(([v]) => !this.stopped.has(v)).map(([, w]) => w),
      mayResume: (w) => ![...this.workers].some(([v, x]) => x === w && this.stopped.has(v)),
      closing: () => this.closing !== undefined,
      log: options.log,
    });
  }

  /** Starts one worker per vendor. */
  start(): this {
    const { options } = this;
    for (const vendor of options.vendors) {
      const queue = new Queue<JobPayload>(queueName(vendor), { connection: this.connection(), prefix: options.prefix, streams: QUEUE_STREAMS });
      const worker = new Worker<JobPayload>(queueName(vendor), (job, token) => this.process(vendor, job, token), {
        connection: this.connection(),
        prefix: options.prefix,
        concurrency: options.concurrency ?? options.tuning.concurrency,
        limiter: UNBOUNDED_LIMITER,
        lockDuration: options.tuning.lockDurationMs,
        stalledInterval: options.tuning.stalledIntervalMs,
        maxStalledCount: options.tuning.maxStalledCount,
        autorun: true,
        ...(options.tracing ? { telemetry: options.tracing.bullmq } : {}),
      });
      worker.on('error', (error) => options.log.error({ vendor, err: error }, 'worker error'));
      worker.on('stalled', (jobId) => options.log.warn({ vendor, jobId }, 'job stalled (its worker died?); it goes back to wait'));
      worker.on('failed', onJobFailed(vendor, options.runner, options.log));
      this.queues.set(vendor, queue);
      this.workers.set(vendor, worker);
    }
    const tick = () => {
      if (this.ticking !== undefined) return;
      this.ticking = this.tick()
        .catch((err: unknown) => options.log.debug({ err }, 'worker pool tick failed'))
        .finally(() => (this.ticking = undefined));
    };
    this.timer = setInterval(tick, TICK_MS);
    this.timer.unref();
    tick();
    return this;
  }

  /** Every TICK_MS (./pool-tick.ts): heartbeat, admission and breaker state, concurrency. */
  private async tick(): Promise<void> {
    const { options } = this;
    const redis = this.connections[0];
    if (redis === undefined || this.closing !== undefined) return;
    await poolTick({
      redis,
      prefix: options.prefix,
      id: this.id,
      workers: this.workers,
      admissionOf: (vendor) => this.admissionOf(vendor),
      quotaOf: options.quotaOf,
      auto: options.tuning.concurrencyAuto && options.concurrency === undefined,
      shortfallLogged: this.shortfallLogged,
      log: options.log,
    });
  }

  private admissionOf(vendor: Vendor): Admission {
    const admission = this.options.admissions[vendor];
    if (admission === undefined) throw new Error(`no admission control for vendor ${vendor}`);
    return admission;
  }

  /** Vendors whose credentials were refused (401/403), with the error. Their jobs stay queued. */
  get stoppedVendors(): ReadonlyMap<Vendor, VendorError> {
    return this.stopped;
  }

  /** Vendors this pool works for. */
  get vendors(): Vendor[] {
    return [...this.workers.keys()];
  }

  /**
   * The batches all that is left in this pool's queues waits for, or null when some job can still
   * run (see heldBacklog); the queues of vendors stopped or in `skip` are not looked at.
   */
  heldBacklog(skip: ReadonlySet<Vendor> = new Set()): Promise<HeldBatch[] | null> {
    const { ledger } = this.options.runner.callBudget ?? {};
    if (ledger === undefined) return Promise.resolve(null);
    const queues = [...this.queues].filter(([vendor]) => !this.stopped.has(vendor) && !skip.has(vendor)).map(([, queue]) => queue);
    return heldBacklog(queues, (batch) => ledger.look(batch));
  }

  /** Vendors whose breaker has been open longer than RESCREEN_BREAKER_ALERT_MS, each with a line saying so. */
  async unreachable(): Promise<Map<Vendor, string>> {
    const out = new Map<Vendor, string>();
    for (const vendor of this.workers.keys()) {
      const breaker = this.admissionOf(vendor).breaker;
      if (breaker !== undefined && (await breaker.refresh()).alert) out.set(vendor, breaker.describe() ?? vendor);
    }
    return out;
  }

  /** Batches this pool has delayed jobs of because they were paused, capped or of another store. */
  get heldBatches(): ReadonlySet<string> {
    return this.held;
  }

  /** Jobs not yet finished per vendor queue (waiting, active, delayed, prioritized, paused). */
  async pendingCounts(): Promise<Record<Vendor, number>> {
    const out: Record<Vendor, number> = {};
    await Promise.all(
      [...this.queues].map(async ([vendor, queue]) => {
        out[vendor] = await pendingJobCount(queue);
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
      clearInterval(this.timer);
      // A pool closed right after it started (a batch that was already finished): let its
      // connections finish connecting first, so no command of theirs dies with "Connection is closed".
      await Promise.all([...this.workers.values(), ...this.queues.values()].map((x) => x.waitUntilReady().catch(() => undefined)));
      await this.ticking?.catch(() => undefined);
      await Promise.all([...this.workers.values()].map((w) => w.close(force)));
      const redis = this.connections[0];
      if (redis !== undefined) await removeHeartbeat(redis, this.options.prefix, this.id).catch(() => undefined);
      await Promise.all([...this.queues.values()].map((q) => q.close()));
      await Promise.all(this.connections.map((c) => c.quit().catch(() => c.disconnect())));
    })();
    return this.closing;
  }

  private connection(): Redis {
    const client = connectRedis(this.options.redisUrl, { maxRetriesPerRequest: null });
    client.on('error', (error) => this.options.log.debug({ err: error.message }, 'redis connection error'));
    this.connections.push(client);
    return client;
  }

  private async process(vendor: Vendor, job: Job<JobPayload>, token?: string): Promise<{ status: string }> {
    const { runner, log } = this.options;
    // The job's span (BullMQ's `process`) says which line it is.
    this.options.tracing?.annotate({ 'rescreen.batch': job.data.batch, 'rescreen.line': job.data.line, 'rescreen.check': job.data.check, 'rescreen.vendor': vendor });
    let step: JobStep;
    try {
      step = await runJob({ payload: job.data, attempt: job.attemptsMade + 1, maxAttempts: job.opts.attempts ?? 1 }, runner);
    } catch (error) {
      // What escapes runJob is the store (or its call ledger) failing: when the store does not
      // answer, the job waits for it without spending an attempt (./store-outage.ts).
      if (!(await this.storeOutage.down(() => runner.store.get(job.data.batch, job.data.line)))) throw error;
      await job.moveToDelayed(Date.now() + STORE_RECHECK_MS, token);
      throw new DelayedError();
    }
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
        // The admission control logged the pause once for the fleet; this job just goes back.
        log.debug({ vendor, delayMs: step.delayMs, timesLimited: step.timesLimited, jobId: job.id }, 'vendor answered 429; job back to wait');
        await job.updateData({ ...job.data, rateLimited: step.timesLimited });
        await this.queues.get(vendor)?.rateLimit(Math.min(step.delayMs, this.options.tuning.quotaRecheckMs));
        throw Worker.RateLimitError();
      }
      case 'deferred':
        // No quota slot for a while: hold the queue (no job is taken, no attempt spent), then ask again.
        log.debug({ vendor, delayMs: step.delayMs, jobId: job.id }, step.reason);
        await this.queues.get(vendor)?.rateLimit(Math.min(step.delayMs, this.options.tuning.quotaRecheckMs));
        throw Worker.RateLimitError();
      case 'held':
        // Only this batch waits: the job is delayed, the queue goes on with other batches.
        if (step.hold !== 'dedupe') this.held.add(job.data.batch);
        if (step.hold === 'store') this.otherStore(job.data.batch, step.reason);
        else log.debug({ batch: job.data.batch, line: job.data.line, delayMs: step.delayMs }, step.reason);
        if (step.times !== undefined) await job.updateData({ ...job.data, held: step.times });
        await job.moveToDelayed(Date.now() + step.delayMs, token);
        throw new DelayedError();
      case 'unavailable':
        // The vendor's outage (its breaker says so once): this job waits, no attempt spent, nothing charged.
        log.debug({ vendor, jobId: job.id, delayMs: step.delayMs }, step.reason);
        if (step.times !== undefined) await job.updateData({ ...job.data, unavailable: step.times });
        await job.moveToDelayed(Date.now() + step.delayMs, token);
        throw new DelayedError();
      case 'stop-vendor':
        this.stopVendor(vendor, step.error);
        // Back to wait without spending an attempt; this worker takes no more of them.
        throw Worker.RateLimitError();
    }
  }

  /** A batch of another result store: said once per batch (its jobs stay queued for a worker on that store). */
  private otherStore(batch: string, reason: string): void {
    if (this.otherStoreBatches.has(batch)) return;
    this.otherStoreBatches.add(batch);
    this.options.log.error({ batch }, `${reason}; this worker uses ${this.options.store}: not taking them (no attempt spent)`);
  }

  private stopVendor(vendor: Vendor, error: VendorError): void {
    if (this.stopped.has(vendor)) return;
    this.stopped.set(vendor, error);
    const what = error instanceof AuthenticationError ? 'refused our credentials (401)' : 'denied access (403)';
    const { label, credentials } = this.options.words[vendor] ?? { label: vendor, credentials: {} };
    const fix = `Fix ${Object.values(credentials).join(', ') || `${vendor}'s credentials`} and start the worker again.`;
    this.options.log.fatal({ vendor, code: error.code, transactionId: error.transactionId }, `${label} ${what}: stopped taking ${vendor} jobs; they stay queued. ${fix}`);
    this.workers.get(vendor)?.pause(true).catch((err: unknown) => this.options.log.error({ vendor, err }, 'could not pause worker'));
    this.emit('vendor-stopped', vendor, error);
  }
}
