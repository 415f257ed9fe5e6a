/**
 * Announcing finished batches without blocking the vendor workers: the store's "batch finished"
 * event only adds a job to the `notifications` queue (one per batch: deterministic job id); a
 * worker of its own delivers the webhook, retried with exponential backoff.
 */
import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { WebhookConfig } from '../config/config.js';
import type { CheckRegistry } from '../checks/registry.js';
import type { BatchSummary, ResultStore } from '../store/types.js';
import { finishedBatchChanges } from '../history/change-counts.js';
import { jobId } from '../queueing/names.js';
import { DeliveryLog, type DeliveryState } from './deliveries.js';
import { batchFinishedEvent, deliver } from './webhook.js';

/** Told each delivery attempt's outcome (metrics): `retrying` is a failed attempt with attempts left. */
/** The taxonomy code of a failed attempt (`WEBHOOK_UNREACHABLE`, `HTTP_<status>`), else `INTERNAL`. */
function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' || typeof code === 'number' ? String(code) : 'INTERNAL';
}

export type DeliveryOutcome = 'delivered' | 'retrying' | 'failed';

export const NOTIFICATIONS_QUEUE = 'notifications';

export interface BatchFinishedJob {
  readonly batch: string;
}

/** Opens the notifications queue; `notify(batch)` is what the store calls when a batch finishes. */
export function createNotifier(
  connection: Redis,
  prefix: string,
  webhook: WebhookConfig,
  backoffMs: number,
): { queue: Queue<BatchFinishedJob>; notify(batch: string): Promise<void> } {
  const queue = new Queue<BatchFinishedJob>(NOTIFICATIONS_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: {
      attempts: webhook.attempts,
      backoff: { type: 'exponential', delay: Math.max(backoffMs, 100), jitter: 0.5 },
      // Kept a week after delivery, so a repeated "finished" cannot announce the batch twice.
      removeOnComplete: { age: 7 * 24 * 3600 },
      removeOnFail: { age: 30 * 24 * 3600 },
    },
  });
  const deliveries = new DeliveryLog(connection, prefix);
  return {
    queue,
    notify: async (batch) => {
      const id = jobId(`finished-${batch}`, 1);
      await queue.add('batch.finished', { batch }, { jobId: id });
      await deliveries.write({ batch, deliveryId: id, state: 'pending', attempts: 0, lastError: null, updatedAt: new Date().toISOString() });
    },
  };
}

/** The worker that delivers the webhook. Concurrency 4: receivers are slow, vendors are not affected. */
export function startNotificationWorker(options: {
  connection: Redis;
  prefix: string;
  webhook: WebhookConfig;
  store: ResultStore;
  /** For the counts of verdict changes in the event. */
  checks: CheckRegistry;
  log: Logger;
  onOutcome?: (outcome: DeliveryOutcome) => void;
}): Worker<BatchFinishedJob> {
  const { webhook, store, log } = options;
  // The counts of changes are worth having, not worth failing the delivery for.
  const changesOf = async (summary: BatchSummary) => {
    try {
      return await finishedBatchChanges(options.connection, options.prefix, store, options.checks, summary);
    } catch (error) {
      log.warn({ batch: summary.batch, err: (error as Error).message }, 'could not count the batch\'s changes for the webhook');
      return undefined;
    }
  };
  const deliveries = new DeliveryLog(options.connection, options.prefix);
  const record = (job: Job<BatchFinishedJob>, state: DeliveryState, attempts: number, error: unknown) =>
    deliveries
      .write({
        batch: job.data.batch,
        deliveryId: job.id ?? job.data.batch,
        state,
        attempts,
        lastError: error === null ? null : { code: codeOf(error), message: (error as Error).message },
        updatedAt: new Date().toISOString(),
      })
      .catch((err: unknown) => log.warn({ err, batch: job.data.batch }, 'could not record the webhook delivery outcome'));
  const worker = new Worker<BatchFinishedJob>(
    NOTIFICATIONS_QUEUE,
    async (job: Job<BatchFinishedJob>) => {
      const summary = await store.summary(job.data.batch);
      if (!summary) {
        log.warn({ batch: job.data.batch }, 'finished batch has no summary; nothing to announce');
        return;
      }
      await deliver({
        url: webhook.url,
        secret: webhook.secret,
        body: JSON.stringify(batchFinishedEvent(summary, await changesOf(summary))),
        deliveryId: job.id ?? job.data.batch,
      });
      log.info({ batch: job.data.batch, attempt: job.attemptsMade + 1 }, 'completion webhook delivered');
      options.onOutcome?.('delivered');
      await record(job, 'delivered', job.attemptsMade + 1, null);
    },
    { connection: options.connection, prefix: options.prefix, concurrency: 4 },
  );
  worker.on('failed', (job, error) => {
    const final = job !== undefined && job.attemptsMade >= (job.opts.attempts ?? 1);
    options.onOutcome?.(final ? 'failed' : 'retrying');
    if (job !== undefined) void record(job, final ? 'failed' : 'pending', job.attemptsMade, error);
    log[final ? 'error' : 'warn']({ batch: job?.data.batch, attemptsMade: job?.attemptsMade, err: error.message }, final ? 'completion webhook gave up' : 'completion webhook failed; will retry');
  });
  worker.on('error', (error) => log.error({ err: error }, 'notification worker error'));
  return worker;
}
