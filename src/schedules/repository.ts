/**
 * Schedules as BullMQ job schedulers on the `schedules` queue (same prefix as the vendor queues):
 * one scheduler per schedule name, its job data the {@link ScheduleDefinition}. `upsertJobScheduler`
 * is one Lua script keyed by the name, so adding the same schedule twice — or from two processes at
 * once — leaves exactly one scheduler and one pending firing.
 */
import { Queue, type JobSchedulerTemplateOptions } from 'bullmq';
import type { Redis } from '../redis/client.js';
import { parseDefinition, type ScheduleDefinition } from './definition.js';
import { repeatOptionsOf } from './rule.js';

/** The BullMQ queue of schedule firings. */
export const SCHEDULES_QUEUE = 'schedules';

/**
 * Options of every firing job: a few attempts with backoff for transient failures (Redis hiccups;
 * a repeat of a firing makes the same batch, so it is safe), removed once finished like every job.
 */
export const FIRING_JOB_OPTIONS: JobSchedulerTemplateOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 5_000 },
  removeOnComplete: true,
  removeOnFail: true,
};

/** A schedule as BullMQ holds it. */
export interface ScheduleEntry {
  readonly name: string;
  /** `null` when the stored data is not a valid definition (`problem` says why). */
  readonly definition: ScheduleDefinition | null;
  readonly problem: string | null;
  /** Next firing (scheduled time), if BullMQ has one. */
  readonly next: Date | null;
  /** Firings made so far (BullMQ's iteration count). */
  readonly iterations: number | null;
}

/** The job schedulers of the `schedules` queue. */
export class ScheduleRepository {
  private readonly queue: Queue;

  /**
   * @param connection - an ioredis client (`maxRetriesPerRequest: null`); shared, never closed here.
   * @param prefix - the key prefix of the queues (`RESCREEN_PREFIX`).
   */
  constructor(connection: Redis, prefix: string) {
    this.queue = new Queue(SCHEDULES_QUEUE, { connection, prefix });
  }

  /**
   * Adds the schedule, or replaces the one of that name (rule, manifest, options). Replacing an
   * `--every` schedule with the same interval keeps its next run; a new one first fires at once.
   */
  async upsert(definition: ScheduleDefinition): Promise<void> {
    await this.queue.upsertJobScheduler(definition.name, repeatOptionsOf(definition.rule), {
      name: definition.name,
      data: definition,
      opts: FIRING_JOB_OPTIONS,
    });
  }

  async get(name: string): Promise<ScheduleEntry | null> {
    const json = await this.queue.getJobScheduler(name);
    return json ? toEntry(name, json) : null;
  }

  /** Every schedule, soonest next run first. */
  async list(): Promise<ScheduleEntry[]> {
    const all = await this.queue.getJobSchedulers(0, -1, true);
    return all.map((json) => toEntry(json.key, json));
  }

  /** Removes the scheduler and its pending firing. Returns false when there was none of that name. */
  async remove(name: string): Promise<boolean> {
    return this.queue.removeJobScheduler(name);
  }

  /** Closes the queue (not the shared connection). */
  async close(): Promise<void> {
    await this.queue.close();
  }
}

function toEntry(name: string, json: { template?: { data?: unknown }; next?: number; iterationCount?: number }): ScheduleEntry {
  const parsed = parseDefinition(json.template?.data);
  return {
    name,
    definition: parsed.ok ? parsed.definition : null,
    problem: parsed.ok ? null : parsed.reason,
    next: typeof json.next === 'number' && Number.isFinite(json.next) ? new Date(json.next) : null,
    iterations: json.iterationCount ?? null,
  };
}
