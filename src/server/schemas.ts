/**
 * The API's shapes, in zod: the one source of request validation, of the handlers' types and of the
 * OpenAPI 3.1 document. Records are open objects (a record may carry vendor-specific fields).
 */
import { z } from 'zod';
import { enqueueQuerySchema } from '../app/index.js';
import { RECORD_STATUSES, STOPPED_BY, VERDICTS, type RecordStatus, type StoppedBy, type Verdict } from '../checks/types.js';

const counts = <K extends string>(keys: readonly K[]) => z.object(Object.fromEntries(keys.map((k) => [k, z.number().int()])) as Record<K, z.ZodNumber>);

export const BatchIdParam = z.object({ id: z.string().min(1).max(200).describe('The batch id') });

export const BatchSummarySchema = z
  .object({
    batch: z.string(),
    createdAt: z.string(),
    manifest: z.string().nullable(),
    finishedAt: z.string().nullable(),
    producerDone: z.boolean(),
    total: z.number().int(),
    maxLine: z.number().int(),
    recorded: z.number().int(),
    byStatus: counts<RecordStatus>(RECORD_STATUSES),
    byVerdict: counts<Verdict>(VERDICTS),
    possiblyBilled: z.number().int().optional(),
    failures: z
      .array(z.object({ code: z.string(), stoppedBy: z.enum(STOPPED_BY as [StoppedBy, ...StoppedBy[]]).nullable(), count: z.number().int() }))
      .optional()
      .describe('failed records by error code and by the limit that ended their retries (stoppedBy), most first; absent when none'),
  })
  .meta({ id: 'BatchSummary' });

export const BatchViewSchema = z
  .object({
    summary: BatchSummarySchema,
    finished: z.boolean(),
    /** 0–1. */
    progress: z.number().describe('recorded / total, 0–1 (0 while the total is not known yet)'),
    ratePerSecond: z.number().nullable().describe('records per second since the batch was created; null before the first record'),
    etaSeconds: z.number().nullable().describe('seconds left at that rate; null when unknown or finished'),
    pending: z.record(z.string(), z.number().int()).optional().describe('unfinished jobs per vendor queue, all batches (in the one-batch answer only)'),
    state: z.enum(['running', 'paused', 'cancelled']).optional().describe('as batch pause / resume / cancel left it (one-batch answer only)'),
    waiting: z.array(z.string()).optional().describe('why its lines wait: paused, budget reached, other batches ahead, no worker (one-batch answer only)'),
    warnings: z.array(z.string()).optional().describe('what looks wrong: paid calls whose answers another result store holds (one-batch answer only)'),
    budget: z.looseObject({ totalPaidCalls: z.number().int(), spend: z.number(), currency: z.string(), budgetReached: z.boolean() }).optional().describe('paid calls, spend (millionths of the currency), caps, the batch\'s own prices, currency and store (terms)'),
    changes: z.looseObject({ lines: z.number().int() }).optional().describe('a finished batch\'s verdict changes against each subject\'s previous screening'),
    quotas: z.array(z.object({ vendor: z.string(), quota: z.string().nullable(), line: z.string().nullable() })),
  })
  .meta({ id: 'BatchView' });

export const BatchListSchema = z.object({ batches: z.array(BatchViewSchema) }).meta({ id: 'BatchList' });

export const RecordSchema = z
  .looseObject({
    batch: z.string(),
    line: z.number().int(),
    subject: z.string().nullable(),
    check: z.string().nullable(),
    status: z.enum(RECORD_STATUSES as [RecordStatus, ...RecordStatus[]]),
    transactionId: z.string().nullable(),
    verdict: z.string().nullable(),
    score: z.number().nullable(),
    error: z.object({ code: z.union([z.string(), z.number()]), message: z.string() }).nullable().describe('for a failed line, the cause of its last failure'),
    stoppedBy: z.enum(STOPPED_BY as [StoppedBy, ...StoppedBy[]]).optional().describe('failed lines only: the limit that ended the retries (call-budget, attempts, rate-limited); absent when the failure was final by nature'),
    attempts: z.number().int(),
    finishedAt: z.string(),
  })
  .meta({ id: 'ResultRecord' });

export const ResultsQuery = z.object({
  status: z.enum(RECORD_STATUSES as [RecordStatus, ...RecordStatus[]]).optional(),
  format: z.enum(['jsonl', 'csv']).default('jsonl'),
});

export const FailuresSchema = z
  .object({ batch: z.string(), byCode: z.record(z.string(), z.number().int()).describe('failed and rejected records by error code') })
  .meta({ id: 'FailuresByCode' });

/** `POST /api/batches`: the enqueue options (src/app/enqueue-options.ts, as the CLI's flags), and the upload's format. */
export const EnqueueQuery = enqueueQuerySchema().extend({
  format: z.enum(['jsonl', 'csv']).optional().describe('of an uploaded body; default from its content type (text/csv → csv)'),
});

export const ServerPathBody = z.object({
  path: z.string().min(1).max(4096).describe('a manifest file or folder, relative to RESCREEN_SERVE_MANIFEST_ROOT (or absolute inside it)'),
});

export const EnqueueSummarySchema = z
  .looseObject({
    batch: z.string(),
    dryRun: z.boolean(),
    lines: z.number().int(),
    enqueued: z.number().int(),
    alreadyRecorded: z.number().int(),
    alreadyQueued: z.number().int(),
    invalid: z.number().int(),
    invalidLines: z.array(z.object({ line: z.number().int(), reason: z.string() })),
  })
  .meta({ id: 'EnqueueSummary' });

export const ControlResultSchema = z
  .object({ batch: z.string(), state: z.enum(['running', 'paused', 'cancelled']), jobs: z.number().int().describe('resume: held jobs back in the queue; cancel: queued lines ended CANCELLED') })
  .meta({ id: 'ControlResult' });

export const RetryBody = z
  .object({
    codes: z.array(z.string().min(1).max(100)).min(1).max(100).optional().describe('only lines whose error.code is one of these (OOTO\'s 5 as "5")'),
    vendor: z.string().min(1).max(64).optional().describe('only lines of this vendor\'s checks'),
    check: z.string().min(1).max(64).optional().describe('only lines of this check'),
    since: z.string().min(1).max(64).optional().describe('only lines that failed at or after this time: ISO 8601, or a duration back from now (30m, 2h, 7d)'),
    dryRun: z.boolean().default(false).describe('count and price only: nothing is enqueued or changed'),
  })
  .meta({ id: 'RetryRequest' });

const money = z.number().int().nullable();

export const RetrySummarySchema = z
  .looseObject({
    batch: z.string(),
    dryRun: z.boolean(),
    lines: z.number().int().describe('failed lines the filter took: re-enqueued, or (dry run) that would be'),
    byVendor: z.record(z.string(), z.number().int()),
    byCode: z.record(z.string(), z.number().int()),
    requeued: z.number().int().describe('lines re-enqueued now (0 for a dry run)'),
    invalid: z.number().int().describe('invalid manifest lines the filter took: they cannot be retried'),
    notMatched: z.number().int().describe('other failed lines, left out by the filter'),
    rejected: z.number().int().describe('rejected lines: final answers, never retried'),
    completed: z.number().int(),
    filter: z.looseObject({}),
    cost: z
      .looseObject({ currency: z.string(), total: money, maxTotal: money, calls: z.number().int(), maxCalls: z.number().int(), maxCallsPerLine: z.number().int(), perVendor: z.record(z.string(), money) })
      .describe('at the batch\'s own prices, millionths of the currency: one paid call a line (total) to RESCREEN_MAX_CALLS_PER_LINE a line (maxTotal); null when a vendor with lines has no price'),
    state: z.enum(['running', 'paused', 'cancelled']).describe('a paused batch\'s re-sent lines wait for resume'),
  })
  .meta({ id: 'RetrySummary' });

export const ScheduleSchema = z
  .object({
    name: z.string(),
    rule: z.string().nullable(),
    check: z.string().nullable(),
    manifest: z.string().nullable(),
    next: z.string().nullable(),
    lastBatch: z.string().nullable(),
    lastSummary: BatchSummarySchema.nullable(),
    lastSkip: z
      .object({ at: z.string(), scheduledAt: z.string(), batch: z.string(), previous: z.string(), recorded: z.number().int(), total: z.number().int().nullable() })
      .nullable(),
    problem: z.string().nullable(),
  })
  .meta({ id: 'Schedule' });

export const DeliverySchema = z
  .object({
    batch: z.string(),
    deliveryId: z.string(),
    state: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.number().int(),
    lastError: z.object({ code: z.string(), message: z.string() }).nullable(),
    updatedAt: z.string(),
  })
  .meta({ id: 'WebhookDelivery' });

export const DeliveriesSchema = z
  .object({
    configured: z.boolean().describe('whether RESCREEN_WEBHOOK_URL is set on this server'),
    counts: z.object({ pending: z.number().int(), delivered: z.number().int(), failed: z.number().int() }),
    deliveries: z.array(DeliverySchema),
  })
  .meta({ id: 'WebhookDeliveries' });

export const LimitQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) });
