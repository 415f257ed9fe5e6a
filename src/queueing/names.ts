/**
 * Queue names, job ids and job options: what producer and worker must agree on.
 */
import { Queue, type JobsOptions, type Telemetry } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobPayload } from '../checks/types.js';
import type { Vendor } from '../vendors/types.js';
import type { WorkerTuning } from '../config/config.js';

/** Name of a vendor's BullMQ queue: one queue per vendor, so each gets its own rate limiter. */
export type QueueName = Vendor;

/** The BullMQ queue of a vendor (`ooto`, `glair`). Job names within it are check names. */
export function queueName(vendor: Vendor): QueueName {
  return vendor;
}

/** A vendor's queue from the runtime's `queues`. @throws Error for a vendor with no queue (not registered). */
export function queueOf<Q>(queues: Readonly<Record<Vendor, Q>>, vendor: Vendor): Q {
  const queue = queues[vendor];
  if (queue === undefined) throw new Error(`no queue for vendor ${JSON.stringify(vendor)} (not in the vendor registry)`);
  return queue;
}

/**
 * The BullMQ job id of (batch, line): deterministic, so re-enqueueing a line while its job is still
 * in the queue adds nothing. Shape: `<batch>#<line>`, with `%` and `:` of the batch escaped as
 * `%25` / `%3A`, because BullMQ refuses custom ids that contain `:` (unless split into exactly three
 * parts) or that read as an integer. The `#` keeps the id non-integer; escaping keeps it one-to-one.
 */
export function jobId(batch: string, line: number): string {
  return `${batch.replace(/%/g, '%25').replace(/:/g, '%3A')}#${line}`;
}

/** Inverse of {@link jobId}; `null` when the id is not one. */
export function parseJobId(id: string): { batch: string; line: number } | null {
  const cut = id.lastIndexOf('#');
  if (cut <= 0) return null;
  const line = Number(id.slice(cut + 1));
  if (!Number.isSafeInteger(line) || line < 1) return null;
  return { batch: id.slice(0, cut).replace(/%3A/g, ':').replace(/%25/g, '%'), line };
}

/** Share of each backoff delay that is random (BullMQ `backoff.jitter`, 0–1). */
export const BACKOFF_JITTER = 0.5;

/**
 * Options of every job (give them to the Queue as `defaultJobOptions`): `attempts` tries with
 * exponential backoff from `backoffMs` (delay n = backoffMs·2^(n−1), randomised down by up to
 * {@link BACKOFF_JITTER}), and finished jobs removed at once: the result store is the record of truth.
 */
export function defaultJobOptions(tuning: Pick<WorkerTuning, 'attempts' | 'backoffMs'>): JobsOptions {
  return {
    // Every job carries a priority (the normal one unless `--priority` says otherwise), so a batch
    // given a higher one goes ahead: BullMQ takes jobs without a priority before all others.
    priority: bullmqPriority(DEFAULT_PRIORITY),
    attempts: tuning.attempts,
    backoff: { type: 'exponential', delay: tuning.backoffMs, jitter: BACKOFF_JITTER },
    removeOnComplete: true,
    removeOnFail: true,
  };
}

/** `--priority`: 1 (last) to 100 (first); batches without one are 50. */
export const DEFAULT_PRIORITY = 50;
export const MAX_PRIORITY = 100;

/** rescreen's priority (higher first) as BullMQ's (lower first, 1 = first). */
export function bullmqPriority(priority: number): number {
  return MAX_PRIORITY + 1 - priority;
}
/**
 * BullMQ's event stream per queue: nothing in rescreen reads it, so it is kept short (BullMQ's
 * default is 10,000 events, ~1 MB per queue, whatever the backlog). Every Queue of a vendor queue
 * must say the same: each writes its own value to the queue's meta.
 */
export const QUEUE_STREAMS = { events: { maxLen: 100 } } as const;

/** Each vendor's queue (producer side), with the options every vendor queue must agree on. */
export function openVendorQueues(
  vendors: readonly Vendor[],
  connection: Redis,
  prefix: string,
  tuning: Pick<WorkerTuning, 'attempts' | 'backoffMs'>,
  telemetry?: Telemetry,
): Record<Vendor, Queue<JobPayload>> {
  const options = { connection, prefix, defaultJobOptions: defaultJobOptions(tuning), streams: QUEUE_STREAMS, ...(telemetry ? { telemetry } : {}) };
  return Object.fromEntries(vendors.map((v) => [v, new Queue<JobPayload>(queueName(v), options)]));
}
