/**
 * What the application layer reads of the queues and does to queued jobs (batch control, the
 * metrics gauges), in the queue module's own words: BullMQ's types stay in src/queueing.
 */
import type { Job, JobType, Queue } from 'bullmq';
import type { JobPayload } from '../checks/types.js';
import type { MetricsSnapshot } from '../metrics/metrics.js';

/** A job's state in its queue (`wait`, `delayed`, `prioritized`, …). */
export type JobState = JobType;

/** A vendor job still in its queue, as batch control handles it. */
export interface QueuedJob {
  readonly data: JobPayload;
  /** Attempts BullMQ has made so far. */
  readonly attemptsMade: number;
  /** BullMQ attempts allowed in total (absent: one). */
  readonly maxAttempts: number | undefined;
  /** Takes the job off its queue; rejects when a worker has taken it meanwhile. */
  remove(): Promise<void>;
  /** Moves a delayed job to wait now; rejects when it is no longer delayed. */
  promote(): Promise<void>;
}

/** Jobs read per page while sweeping the queues for a batch's jobs. */
const PAGE = 1_000;

/** Every job of the batch in these states, on each of the vendor queues (read in pages of {@link PAGE}). */
export async function forEachBatchJob(
  queues: Iterable<Queue<JobPayload>>,
  batch: string,
  states: readonly JobState[],
  fn: (job: QueuedJob) => Promise<void>,
): Promise<void> {
  for (const queue of queues) {
    for (const state of states) {
      // Removing jobs shifts the pages: read the whole list of ids first, then act.
      const jobs: Job<JobPayload>[] = [];
      for (let start = 0; ; start += PAGE) {
        const page = (await queue.getJobs([state], start, start + PAGE - 1, true)) as (Job<JobPayload> | undefined)[];
        for (const job of page) if (job?.data.batch === batch) jobs.push(job);
        if (page.length < PAGE) break;
      }
      for (const job of jobs) {
        await fn({ data: job.data, attemptsMade: job.attemptsMade, maxAttempts: job.opts.attempts, remove: () => job.remove(), promote: () => job.promote() });
      }
    }
  }
}

/** One queue's gauges: waiting (plain and prioritized), active, delayed, and the age of the next job a worker takes. */
export async function queueSample(name: string, queue: Queue, now: number): Promise<MetricsSnapshot['queues'][number]> {
  const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized');
  // The next job a worker takes, of the plain and of the prioritized waiting jobs (rescreen gives
  // every job a priority, so nearly all wait in `prioritized`); the older of the two.
  const heads = [...(await queue.getJobs(['wait'], 0, 0, true)), ...(await queue.getJobs(['prioritized'], 0, 0, true))];
  const oldest = heads.filter((j) => j !== undefined).sort((a, b) => a.timestamp - b.timestamp)[0];
  return {
    queue: name,
    waiting: (counts.wait ?? 0) + (counts.prioritized ?? 0),
    active: counts.active ?? 0,
    delayed: counts.delayed ?? 0,
    oldestWaitingSeconds: oldest ? Math.max(0, (now - oldest.timestamp) / 1000) : 0,
  };
}
