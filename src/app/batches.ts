/**
 * The application layer for batches: what the CLI, the HTTP API, the programmatic API and the
 * testing kit ask of rescreen, as plain data. No printing, no process exits: errors are the taxonomy's
 * (InvalidInputError, NotFoundError), and each caller renders them its own way.
 */
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CheckName } from '../checks/registry.js';
import type { Vendor } from '../vendors/types.js';
import type { RecordStatus, ResultRecord } from '../checks/types.js';
import { ErrorCodes, InvalidInputError, NotFoundError, RescreenError } from '../errors/errors.js';
import { ManifestUnreadableError } from '../manifest/errors.js';
import { isS3Ref } from '../config/s3.js';
import { queueingS3Lines, requireS3Credentials } from './s3-credentials.js';
import { createMediaProbe } from '../media/probe.js';
import { pendingJobCount } from '../queueing/idle.js';
import { bullmqPriority, queueOf } from '../queueing/names.js';
import { enqueueManifest, type EnqueueSummary } from '../queueing/producer.js';
import { quotaReport, type VendorQuotaReport } from '../quota/report.js';
import { envQuotas, type Runtime } from '../runtime/runtime.js';
import { COUNT_ON_READ_MAX_LINES, finishedBatchChanges } from '../history/change-counts.js';
import type { ChangeCounts } from '../history/changes.js';
import { finishedBatchDrift } from '../drift/kept.js';
import type { DriftSummary } from '../drift/report.js';
import { isBatchFinished as isFinished } from '../store/types.js';
import type { BatchSummary, RunSettingsEntry } from '../store/types.js';
import { defaultBatchIdOf } from './batch-id.js';
import type { BatchState } from './control.js';
import { whyWaiting } from './waiting.js';
import { batchBudget, batchTerms, budgetWarnings, dryRunCosts, parseCaps, recordTermsAndCaps, requirePrices, type BatchBudget, type DryRunCosts } from './budget.js';
import { describeFsError } from './fs-words.js';
import { checkEnqueueOptions, type EnqueueOptions } from './enqueue-options.js';
import { parseFailureGuard } from './guard.js';
import { callsKey } from '../redis/keys.js';
import { setFailureGuard } from '../money/failure-guard.js';
import { reviewRulesOf, setReviewRules } from '../review/queue.js';
import { describeReviewRules, parseReviewRules } from '../review/rules.js';
import { canaryThresholdOf, readCanarySet } from '../drift/canary-set.js';

export { isFinished };

/** What {@link enqueueBatch} takes: the manifest, the enqueue options (./enqueue-options.ts), and how the caller found the manifest. */
export interface EnqueueArgs extends EnqueueOptions {
  readonly manifest: string;
  /** Where relative refs resolve (default: the manifest's folder). */
  readonly baseDir?: string;
  /** What the batch records as its manifest (default: the manifest path). */
  readonly manifestLabel?: string;
  /** The manifest file's sha256 when the caller has hashed it already (an upload): it is not read again to be hashed. */
  readonly manifestSha256?: string;
  /**
   * Keep at most RESCREEN_MAX_QUEUED jobs waiting, feeding the rest as workers drain them (the call
   * then lasts until the last chunk is queued). Default true; `rescreen run` turns it off, since its
   * workers only start once the manifest is enqueued.
   */
  readonly window?: boolean;
}

/**
 * The batch id: the one given (checked with the options), or one derived from the manifest's
 * content, with the manifest file's sha256 then (it is hashed once). `check` counts for a folder,
 * where it decides which files are lines.
 * @throws InvalidInputError for an unreadable manifest.
 */
async function resolveBatchId(
  runtime: Pick<Runtime, 'checks' | 's3'>,
  manifest: string,
  batch: string | undefined,
  check: CheckName | undefined,
): Promise<{ batch: string; sha256?: string | undefined }> {
  if (batch !== undefined) return { batch };
  try {
    return await defaultBatchIdOf(manifest, { checks: runtime.checks, s3: runtime.s3, ...(check !== undefined ? { check } : {}) });
  } catch (error) {
    if (error instanceof ManifestUnreadableError) throw new InvalidInputError(error.message, { cause: error });
    throw new InvalidInputError(`cannot read manifest ${manifest}: ${describeFsError(error)}`, { cause: error });
  }
}

/**
 * Streams a manifest (file or folder) into the queues, or with `dryRun` only estimates what a run
 * would do and pay.
 * @throws InvalidInputError when the manifest cannot be read at all.
 */
export async function enqueueBatch(runtime: Runtime, args: EnqueueArgs): Promise<EnqueueSummary & { costs?: DryRunCosts }> {
  const options = checkEnqueueOptions(args);
  const caps = parseCaps(options);
  const guard = parseFailureGuard(options);
  const parsedReview = options.review === undefined ? undefined : parseReviewRules(options.review);
  const review = parsedReview?.ok === true ? describeReviewRules(parsedReview.rules) : undefined;
  // A prefix is listed to name the batch: credentials first (exit 2 naming where the SDK looked).
  if (isS3Ref(args.manifest)) await requireS3Credentials(runtime);
  const { batch, sha256 = args.manifestSha256 } = await resolveBatchId(runtime, args.manifest, options.batch, options.check);
  const { config } = runtime;
  // The batch's own prices (from its first enqueue), else this process's: they are recorded with it.
  const terms = await batchTerms(runtime, batch);
  requirePrices(runtime, batch, caps, terms);
  if (options.canaryThreshold !== undefined && options.canary === undefined) throw new InvalidInputError('--canary-threshold needs --canary (a canary set)');
  const canary = options.canary === undefined ? undefined : { lines: await readCanarySet(options.canary, { checks: runtime.checks, ...(options.check !== undefined ? { checkOverride: options.check } : {}) }), threshold: canaryThresholdOf(options.canaryThreshold) };
  // Terms and caps are in place before the first job can be taken.
  if (!options.dryRun) {
    await recordTermsAndCaps(runtime, batch, caps);
    if (guard) await setFailureGuard(runtime.redis, callsKey(runtime.config.prefix, batch), guard);
    if (review !== undefined) await setReviewRules(runtime.redis, runtime.config.prefix, batch, review);
  }
  try {
    const summary = await enqueueManifest({
      manifestPath: isS3Ref(args.manifest) ? args.manifest : resolve(args.manifest),
      s3: runtime.s3,
      onS3Line: () => queueingS3Lines(runtime, batch, options.dryRun),
      batch,
      ...(options.check !== undefined ? { checkOverride: options.check } : {}),
      dryRun: options.dryRun,
      ...(args.baseDir !== undefined ? { baseDir: resolve(args.baseDir) } : {}),
      ...(args.manifestLabel !== undefined ? { manifestLabel: args.manifestLabel } : {}),
      ...(sha256 !== undefined ? { manifestSha256: sha256 } : {}),
      ...(options.dryRun
        ? {
            probe: createMediaProbe({ photoMaxBytes: config.photoMaxBytes, hostPolicy: config.mediaHosts, s3: runtime.s3 }),
            rateLimits: Object.fromEntries(runtime.vendors.map((v) => [v.name, config.vendors[v.name]?.rateLimit])),
          }
        : {}),
      checks: runtime.checks,
      queues: runtime.queues,
      store: runtime.store,
      ...(options.priority !== undefined ? { jobOptions: { priority: bullmqPriority(options.priority) } } : {}),
      ...(options.dedupe === true ? { dedupe: true } : {}),
      ...(canary !== undefined ? { canary } : {}),
      ...(args.window !== false ? { maxQueued: config.maxQueued } : {}),
      // Folder mode: which files made no line, for whoever asks (LOG_LEVEL=debug).
      onSkip: (skip) => runtime.log.debug({ path: skip.path, reason: skip.reason }, 'folder entry skipped'),
    });
    return summary.estimate ? { ...summary, costs: dryRunCosts(runtime, summary.estimate, terms.terms) } : summary;
  } catch (error) {
    if (error instanceof ManifestUnreadableError) throw new InvalidInputError(error.message, { cause: error });
    if (error instanceof RescreenError && error.code === ErrorCodes.MANIFEST_CHANGED) throw new InvalidInputError(error.message, { cause: error });
    throw error;
  }
}

/** The vendors a batch's lines go to. */
export function vendorsOf(summary: EnqueueSummary, vendorOf: (check: CheckName) => Vendor): Set<Vendor> {
  return new Set(
    Object.entries(summary.byCheck).filter(([, n]) => n > 0).map(([check]) => vendorOf(check)),
  );
}

/** What `status` shows: the summary, the unfinished jobs per vendor queue, the quota state. */
export interface BatchStatus {
  readonly summary: BatchSummary;
  readonly finished: boolean;
  /** Jobs not finished per vendor queue, all batches. */
  readonly pending: Readonly<Record<Vendor, number>>;
  readonly quotas: readonly VendorQuotaReport[];
  /** A finished batch's verdict changes against each subject's previous screening. */
  readonly changes?: ChangeCounts;
  /** A finished batch's score drift against each check's previous finished batch (README: Drift and canaries). */
  readonly drift?: DriftSummary;
  /** Paid calls, spend, caps. */
  readonly budget: BatchBudget;
  /** As `batch pause | resume | cancel` left it. */
  readonly state: BatchState;
  /** The `--review` rules its cases open by (src/review/rules.ts), as text. */
  readonly review: string;
  /** Why its lines wait (paused, budget, other batches ahead, no worker); empty when finished. */
  readonly waiting: readonly string[];
  /** What looks wrong: paid calls whose answers this store does not hold. */
  readonly warnings: readonly string[];
  /** The settings the batch's answered calls ran with, as its workers recorded them (base URLs, simulator or not). */
  readonly answeredBy: readonly RunSettingsEntry[];
}

/** @throws NotFoundError when there is no such batch. */
export async function batchSummary(runtime: Runtime, batch: string): Promise<BatchSummary> {
  const summary = await runtime.store.summary(batch);
  if (!summary) throw new NotFoundError(`no batch ${JSON.stringify(batch)}`);
  return summary;
}

/** @throws NotFoundError when there is no such batch. */
export async function batchStatus(runtime: Runtime, batch: string): Promise<BatchStatus> {
  const summary = await batchSummary(runtime, batch);
  const finished = isFinished(summary);
  const changes = finished ? await finishedBatchChanges(runtime.redis, runtime.config.prefix, runtime.store, runtime.checks, summary, COUNT_ON_READ_MAX_LINES) : undefined;
  const drift = finished ? await finishedBatchDrift(runtime.redis, runtime.config.prefix, runtime.store, summary, COUNT_ON_READ_MAX_LINES) : undefined;
  const budget = await batchBudget(runtime, summary);
  const { state } = budget;
  const pending = await pendingJobs(runtime);
  const waiting = finished ? [] : await whyWaiting(runtime, summary, state, budget, pending);
  const warnings = budgetWarnings(runtime, budget);
  const answeredBy = await runtime.store.runSettings(batch);
  const review = describeReviewRules(await reviewRulesOf(runtime.redis, runtime.config.prefix, batch));
  return { summary, finished, pending, quotas: await quotas(runtime), budget, state, review, waiting, warnings, answeredBy, ...(changes ? { changes } : {}), ...(drift ? { drift } : {}) };
}

/** Batches, newest first, with their summaries, and the quota state. */
export async function listBatches(runtime: Runtime, limit: number): Promise<{ batches: BatchSummary[]; quotas: VendorQuotaReport[] }> {
  const ids = await runtime.store.listBatches(limit);
  const batches: BatchSummary[] = [];
  for (const id of ids) {
    const s = await runtime.store.summary(id);
    if (s) batches.push(s);
  }
  return { batches, quotas: await quotas(runtime) };
}

/** Jobs not finished, per vendor queue (all batches). */
export async function pendingJobs(runtime: Runtime): Promise<Record<Vendor, number>> {
  const out: Record<Vendor, number> = {};
  for (const vendor of runtime.vendors) out[vendor.name] = await pendingJobCount(queueOf(runtime.queues, vendor.name));
  return out;
}

/** The vendors' quota state in force, for screens. */
export function quotas(runtime: Runtime): Promise<VendorQuotaReport[]> {
  return quotaReport(runtime.redis, runtime.config.prefix, envQuotas(runtime), { breaker: runtime.config.worker.breaker });
}

/**
 * The batch's records in line order (flat memory), optionally of one status.
 * @throws NotFoundError (before yielding anything) when there is no such batch.
 */
export async function batchRecords(runtime: Runtime, batch: string, options: { status?: RecordStatus } = {}): Promise<AsyncIterable<ResultRecord>> {
  await batchSummary(runtime, batch);
  const { status } = options;
  return (async function* () {
    for await (const record of runtime.store.stream(batch)) {
      if (status === undefined || record.status === status) yield record;
    }
  })();
}

/** @throws NotFoundError when no record has that transaction id. */
export async function recordByTransactionId(runtime: Runtime, transactionId: string): Promise<ResultRecord> {
  // The record's own (last) call first, else any answered call of the line (the attempt log).
  let record = await runtime.store.byTransactionId(transactionId);
  if (!record) {
    const row = await runtime.store.attemptByTransactionId(transactionId);
    if (row) record = await runtime.store.get(row.batch, row.line);
  }
  if (!record) throw new NotFoundError(`no record with transaction id ${JSON.stringify(transactionId)}`);
  return record;
}

/** Every record of a subject across batches, oldest first. */
export function subjectRecords(runtime: Runtime, subject: string, limit?: number): Promise<ResultRecord[]> {
  return runtime.store.bySubject(subject, limit);
}

/**
 * Polls until the batch has a record for every line, `signal` aborts, or `stopWhen` says so;
 * `onProgress` sees every summary. Returns the last summary (null if the batch never appeared).
 */
export async function waitForBatch(
  runtime: Runtime,
  batch: string,
  options: { signal?: AbortSignal; pollMs?: number; onProgress?: (s: BatchSummary) => void; stopWhen?: () => boolean } = {},
): Promise<BatchSummary | null> {
  let summary: BatchSummary | null = null;
  for (;;) {
    summary = await runtime.store.summary(batch);
    if (summary) options.onProgress?.(summary);
    if ((summary && isFinished(summary)) || options.signal?.aborted === true || options.stopWhen?.() === true) return summary;
    await sleep(options.pollMs ?? 250);
  }
}
