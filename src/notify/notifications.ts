/**
 * Announcing finished batches without blocking the vendor workers: the store's "batch finished"
 * event only adds a job to the `notifications` queue (one per batch: deterministic job id); a
 * worker of its own delivers the webhook, retried with exponential backoff.
 */
import { Queue, Worker, type Job, type Telemetry } from 'bullmq';
import type { Redis } from '../redis/client.js';
import type { Logger } from 'pino';
import type { WebhookConfig } from '../config/config.js';
import type { CheckRegistry } from '../checks/registry.js';
import type { BatchSummary, ResultStore } from '../store/types.js';
import { finishedBatchChanges } from '../history/change-counts.js';
import { finishedBatchDrift } from '../drift/kept.js';
import { jobId } from '../queueing/names.js';
import { DeliveryLog, type DeliveryState } from './deliveries.js';
import type { Decision, ReviewCase } from '../store/cases.js';
import { BATCH_FINISHED, CASE_OPENED, batchFinishedEvent, deliver, type CASE_DECIDED } from './webhook.js';

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

/** A review-case event: its body is made when it is queued (the case as it was then). */
export interface CaseEventJob {
  readonly batch: string;
  readonly event: typeof CASE_OPENED | typeof CASE_DECIDED;
  readonly caseId: string;
  readonly body: { readonly event: typeof CASE_OPENED | typeof CASE_DECIDED; readonly case: ReviewCase; readonly decision?: Decision };
}

/** What the notifications queue carries: a finished batch, or a case event (job name = the event). */
export type NotificationJob = BatchFinishedJob | CaseEventJob;

function isCaseEvent(data: NotificationJob): data is CaseEventJob {
  return 'event' in data;
}

/** The delivery id of a case event: one per case opened, one per decision (the receiver de-duplicates on it). */
export function caseDeliveryId(event: CaseEventJob['event'], c: ReviewCase, decision?: Decision): string {
  return event === CASE_OPENED ? `case-opened-${c.id}` : `case-decided-${c.id}-${decision?.seq ?? 0}`;
}

/** Opens the notifications queue; `notify(batch)` is what the store calls when a batch finishes. */
export function createNotifier(
  connection: Redis,
  prefix: string,
  webhook: WebhookConfig,
  backoffMs: number,
  /** BullMQ's telemetry when tracing is on: the delivery job carries the finishing job's trace context. */
  telemetry?: Telemetry,
): { queue: Queue<NotificationJob>; notify(batch: string): Promise<void>; notifyCases(event: CaseEventJob['event'], items: readonly { case: ReviewCase; decision?: Decision }[]): Promise<void> } {
  const queue = new Queue<NotificationJob>(NOTIFICATIONS_QUEUE, {
    connection,
    prefix,
    ...(telemetry ? { telemetry } : {}),
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
      await queue.add(BATCH_FINISHED, { batch }, { jobId: id });
      await deliveries.write({ batch, deliveryId: id, state: 'pending', attempts: 0, lastError: null, updatedAt: new Date().toISOString() });
    },
    // One job per case or decision, added in bulk: a scan that opens 10^4 cases is one round trip,
    // and the worker's concurrency paces the deliveries.
    notifyCases: async (event, items) => {
      if (items.length === 0) return;
      const now = new Date().toISOString();
      const jobs = items.map(({ case: c, decision }) => {
        const id = caseDeliveryId(event, c, decision);
        const body = { event, case: c, ...(decision ? { decision } : {}) };
        return { name: event, data: { batch: c.batch, event, caseId: c.id, body }, opts: { jobId: id } };
      });
      await queue.addBulk(jobs);
      for (const j of jobs) {
        await deliveries.write({ batch: j.data.batch, event, caseId: j.data.caseId, deliveryId: j.opts.jobId, state: 'pending', attempts: 0, lastError: null, updatedAt: now });
      }
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
  /** BullMQ's telemetry when tracing is on: a span per delivery, its POST inside it. */
  telemetry?: Telemetry;
}): Worker<NotificationJob> {
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
  const driftOf = async (summary: BatchSummary) => {
    try {
      return await finishedBatchDrift(options.connection, options.prefix, store, summary);
    } catch (error) {
      log.warn({ batch: summary.batch, err: (error as Error).message }, "could not compute the batch's drift for the webhook");
      return undefined;
    }
  };
  const deliveries = new DeliveryLog(options.connection, options.prefix);
  const record = (job: Job<NotificationJob>, state: DeliveryState, attempts: number, error: unknown) =>
    deliveries
      .write({
        batch: job.data.batch,
        ...(isCaseEvent(job.data) ? { event: job.data.event, caseId: job.data.caseId } : {}),
        deliveryId: job.id ?? job.data.batch,
        state,
        attempts,
        lastError: error === null ? null : { code: codeOf(error), message: (error as Error).message },
        updatedAt: new Date().toISOString(),
      })
      .catch((err: unknown) => log.warn({ err, batch: job.data.batch }, 'could not record the webhook delivery outcome'));
  const worker = new Worker<NotificationJob>(
    NOTIFICATIONS_QUEUE,
    async (job: Job<NotificationJob>) => {
      const data = job.data;
      if (isCaseEvent(data)) {
        await deliver({ url: webhook.url, secret: webhook.secret, legacySignature: webhook.legacySignature, event: data.body, deliveryId: job.id ?? data.caseId });
        log.info({ batch: data.batch, case: data.caseId, event: data.event, attempt: job.attemptsMade + 1 }, 'case webhook delivered');
        options.onOutcome?.('delivered');
        await record(job, 'delivered', job.attemptsMade + 1, null);
        return;
      }
      const summary = await store.summary(job.data.batch);
      if (!summary) {
        log.warn({ batch: job.data.batch }, 'finished batch has no summary; nothing to announce');
        return;
      }
      await deliver({
        url: webhook.url,
        secret: webhook.secret,
        legacySignature: webhook.legacySignature,
        event: batchFinishedEvent(summary, await changesOf(summary), await driftOf(summary)),
        deliveryId: job.id ?? job.data.batch,
      });
      log.info({ batch: job.data.batch, attempt: job.attemptsMade + 1 }, 'completion webhook delivered');
      options.onOutcome?.('delivered');
      await record(job, 'delivered', job.attemptsMade + 1, null);
    },
    { connection: options.connection, prefix: options.prefix, concurrency: 4, ...(options.telemetry ? { telemetry: options.telemetry } : {}) },
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
