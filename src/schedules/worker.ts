/**
 * The worker of the `schedules` queue, run by every `rescreen work` next to the vendor workers:
 * concurrency 1 per process, each job a firing made by a job scheduler (./repository.ts). A firing's
 * scheduled time is the slot its job was made for (see {@link scheduledTimeOf}), so a late or
 * repeated firing still makes the batch of its slot.
 */
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from '../redis/client.js';
import { connectRedis } from '../redis/connect.js';
import type { Logger } from 'pino';
import type { CheckRegistry } from '../checks/registry.js';
import type { Vendor } from '../vendors/types.js';
import { ManifestUnreadableError } from '../manifest/errors.js';
import type { ResultStore } from '../store/types.js';
import { countJobs, UNFINISHED_STATES } from '../queueing/idle.js';
import { parseDefinition } from './definition.js';
import { fireSchedule } from './firing.js';
import { ScheduleRepository, SCHEDULES_QUEUE } from './repository.js';
import { ScheduleStateStore } from './state.js';

export interface ScheduleWorkerOptions {
  readonly redisUrl: string;
  readonly prefix: string;
  /** The runtime's shared client: state and scheduler look-ups (never closed here). */
  readonly redis: Redis;
  /** The vendor queues firings enqueue into (the runtime's). */
  readonly queues: Readonly<Record<Vendor, Queue>>;
  /** The checks the manifests' lines may name (the runtime's). */
  readonly checks: CheckRegistry;
  readonly store: ResultStore;
  /** Records a fired batch's terms (prices, currency, store) before its first job is queued. */
  readonly recordTerms?: (batch: string) => Promise<void>;
  /** Keeps a fired batch's `--review` rules. */
  readonly setReview?: (batch: string, rules: string) => Promise<void>;
  readonly log: Logger;
}

/** What a firing job returned (kept only in events: finished jobs are removed). */
export type FiringJobResult =
  | { readonly status: 'enqueued' | 'skipped'; readonly batch: string }
  | { readonly status: 'schedule-removed' };

export class ScheduleWorker {
  private worker: Worker | undefined;
  private queue: Queue | undefined;
  private readonly connections: Redis[] = [];
  private readonly repository: ScheduleRepository;
  private readonly state: ScheduleStateStore;
  private readonly log: Logger;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: ScheduleWorkerOptions) {
    this.repository = new ScheduleRepository(options.redis, options.prefix);
    this.state = new ScheduleStateStore(options.redis, options.prefix);
    this.log = options.log.child({ queue: SCHEDULES_QUEUE });
  }

  /** Starts taking firings (one at a time in this process). */
  start(): this {
    const { prefix } = this.options;
    this.queue = new Queue(SCHEDULES_QUEUE, { connection: this.connection(), prefix });
    const worker = new Worker(SCHEDULES_QUEUE, (job) => this.process(job), {
      connection: this.connection(),
      prefix,
      concurrency: 1,
      autorun: true,
    });
    worker.on('error', (error) => this.log.error({ err: error }, 'schedules worker error'));
    worker.on('failed', (job, error) => {
      const final = error instanceof UnrecoverableError || (job !== undefined && job.attemptsMade >= (job.opts.attempts ?? 1));
      this.log[final ? 'error' : 'warn'](
        { jobId: job?.id, schedule: job?.name, attemptsMade: job?.attemptsMade, err: error.message },
        final ? 'schedule firing failed' : 'schedule firing failed; it will be retried',
      );
    });
    this.worker = worker;
    return this;
  }

  /**
   * Firings due or running: waiting, active, prioritized, paused. The next (delayed) firing of each
   * scheduler does not count, so `work --until-idle` still ends while schedules exist.
   */
  async pendingCount(): Promise<number> {
    if (!this.queue) return 0;
    return countJobs(this.queue, ...UNFINISHED_STATES.filter((state) => state !== 'delayed'));
  }

  /** Stops taking firings; waits for the one in flight unless `force` (then it comes back as stalled). */
  close(force = false): Promise<void> {
    this.closing ??= (async () => {
      // Closed right after it started (a run with nothing to do): let the connections finish
      // connecting first, or BullMQ's version probe dies with an unhandled "Connection is closed".
      await Promise.all([this.worker, this.queue].flatMap((x) => (x ? [x.waitUntilReady().catch(() => undefined)] : [])));
      await this.worker?.close(force);
      await this.queue?.close();
      await this.repository.close();
      await Promise.all(this.connections.map((c) => c.quit().catch(() => c.disconnect())));
    })();
    return this.closing;
  }

  private connection(): Redis {
    const client = connectRedis(this.options.redisUrl, { maxRetriesPerRequest: null });
    client.on('error', (error) => this.log.debug({ err: error.message }, 'redis connection error'));
    this.connections.push(client);
    return client;
  }

  private async process(job: Job): Promise<FiringJobResult> {
    const parsed = parseDefinition(job.data);
    if (!parsed.ok) throw new UnrecoverableError(`firing ${String(job.id)}: not a schedule definition: ${parsed.reason}`);
    const { definition } = parsed;
    // A firing already waiting when its schedule was removed (BullMQ removes only a delayed one).
    if ((await this.repository.get(definition.name)) === null) {
      this.log.info({ schedule: definition.name, jobId: job.id }, `schedule ${definition.name} was removed; firing dropped`);
      return { status: 'schedule-removed' };
    }
    const scheduledAt = new Date(scheduledTimeOf(job));
    try {
      const outcome = await fireSchedule(definition, scheduledAt, {
        queues: this.options.queues,
        checks: this.options.checks,
        store: this.options.store,
        state: this.state,
        log: this.options.log,
        ...(this.options.recordTerms ? { recordTerms: this.options.recordTerms } : {}),
        ...(this.options.setReview ? { setReview: this.options.setReview } : {}),
      });
      return { status: outcome.kind, batch: outcome.batch };
    } catch (error) {
      // Retrying cannot make the manifest readable; the next firing tries again.
      if (error instanceof ManifestUnreadableError) throw new UnrecoverableError(error.message);
      throw error;
    }
  }
}

/**
 * The scheduled time (ms) of a firing job. BullMQ names every scheduler job `repeat:<id>:<slot ms>`
 * and that is the one reliable place: `opts.prevMillis` holds the slot for `pattern` (cron)
 * schedulers only — for `every` the slot is computed inside BullMQ's Lua script and only reaches the
 * job id and its delay. Then `opts.prevMillis` (a job added by hand), then `timestamp + delay`.
 */
export function scheduledTimeOf(job: Pick<Job, 'id' | 'repeatJobKey' | 'opts' | 'timestamp' | 'delay'>): number {
  if (job.id !== undefined && job.repeatJobKey !== undefined) {
    const head = `repeat:${job.repeatJobKey}:`;
    if (job.id.startsWith(head)) {
      const slot = Number(job.id.slice(head.length));
      if (Number.isSafeInteger(slot) && slot > 0) return slot;
    }
  }
  return job.opts.prevMillis ?? job.timestamp + job.delay;
}
