/**
 * Second chances: re-enqueue the lines of a batch whose record is `failed` (no answer: retries
 * exhausted, unreadable media), all of them or those a filter picks (by cause, vendor, check, time).
 * `rejected` records are final answers about the media and are never re-sent; invalid manifest lines
 * cannot be sent at all (fix the manifest and enqueue it again).
 * The old record stands until the new one lands (the worker replaces it in one atomic write).
 */
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Queue } from 'bullmq';
import type { CheckName, CheckRegistry } from '../checks/registry.js';
import type { Vendor } from '../vendors/types.js';
import type { JobPayload, ResultRecord } from '../checks/types.js';
import { DEFAULT_CHUNK_SIZE } from '../config/defaults.js';
import { ErrorCodes } from '../errors/errors.js';
import type { ResultStore } from '../store/types.js';
import { jobId, queueOf } from './names.js';
import { needsS3 } from '../config/s3.js';

/**
 * Which failed lines a retry takes (every one when empty): all the given conditions hold. A rejected
 * line is never taken, whatever the filter, and an invalid manifest line cannot be.
 */
export interface RetryFilter {
  /** The record's `error.code` is one of these (as text: OOTO's `5` is `'5'`). */
  readonly codes?: readonly string[];
  /** The line's check goes to this vendor. */
  readonly vendor?: Vendor;
  readonly check?: CheckName;
  /** The line failed at or after this time (its record's `finishedAt`). */
  readonly since?: Date;
}

export interface RetryCounts {
  readonly batch: string;
  /** Nothing was enqueued: the counts say what a retry would do. */
  readonly dryRun: boolean;
  /** Failed lines the filter took (re-enqueued now, or with `dryRun` the ones that would be). */
  readonly lines: number;
  /** Of `lines`, per vendor (every vendor present). */
  readonly byVendor: Readonly<Record<Vendor, number>>;
  /** Of `lines`, per error code. */
  readonly byCode: Readonly<Record<string, number>>;
  /** Failed lines sent back to the queues now (0 for a dry run). */
  readonly requeued: number;
  /** Failed lines the filter took that are invalid manifest lines: nothing to send. */
  readonly invalid: number;
  /** Failed lines the filter left out. */
  readonly notMatched: number;
  /** Rejected lines, left alone on purpose. */
  readonly rejected: number;
  readonly completed: number;
}

/** Where the batch's relative media paths resolve: the manifest's folder, or the folder that was the manifest. */
export async function batchBaseDir(manifest: string): Promise<string> {
  try {
    if ((await stat(manifest)).isDirectory()) return manifest;
  } catch {
    // The manifest may be gone since; its folder is still the best guess for the media.
  }
  return dirname(manifest);
}

function retryPayload(record: ResultRecord, baseDir: string): JobPayload | null {
  if (record.check === null || record.error?.code === ErrorCodes.INVALID_LINE) return null;
  return {
    batch: record.batch,
    line: record.line,
    check: record.check,
    subject: record.subject,
    ...(record.frames !== undefined ? { frames: record.frames } : { ref: record.ref ?? '' }),
    ...(record.options !== undefined ? { options: record.options } : {}),
    ...(record.previous !== undefined ? { previous: record.previous } : {}),
    ...(record.enrolledTemplateId !== undefined ? { enrolledTemplateId: record.enrolledTemplateId } : {}),
    ...(record.canary !== undefined ? { canary: record.canary } : {}),
    // A reused answer's line keeps sharing (its record says where the answer came from).
    ...(record.reusedFrom !== undefined ? { dedupe: true as const } : {}),
    baseDir,
    retry: true,
  };
}

/** Whether a failed record passes the filter. */
function matches(record: ResultRecord, filter: RetryFilter, checks: CheckRegistry): boolean {
  if (filter.codes !== undefined && filter.codes.length > 0 && !filter.codes.includes(String(record.error?.code ?? ''))) return false;
  if (filter.check !== undefined && record.check !== filter.check) return false;
  if (filter.vendor !== undefined && (record.check === null || !checks.has(record.check) || checks.vendorOf(record.check) !== filter.vendor)) return false;
  if (filter.since !== undefined && !(Date.parse(record.finishedAt) >= filter.since.getTime())) return false;
  return true;
}

/**
 * Re-enqueues the batch's failed lines that pass `filter` (every failed line without one), or with
 * `dryRun` only counts them. `beforeEnqueue` runs once, before the first job is added (not at all for
 * a dry run or when nothing is taken). Null for an unknown batch.
 */
export async function retryFailed(options: {
  batch: string;
  store: ResultStore;
  /** Which vendor queue each check goes to. */
  checks: CheckRegistry;
  queues: Readonly<Record<Vendor, Queue<JobPayload>>>;
  filter?: RetryFilter;
  dryRun?: boolean;
  beforeEnqueue?: () => Promise<void>;
  /** Awaited once, before the first line naming `s3://` media is re-enqueued (not for a dry run). */
  onS3Line?: () => Promise<void>;
  /** Awaited before each chunk of jobs is added, with the ids of its jobs whose line names `s3://` media (none: not called). */
  onS3Jobs?: (jobIds: readonly string[]) => Promise<void>;
  chunkSize?: number;
}): Promise<RetryCounts | null> {
  const { batch, store, queues, checks } = options;
  const filter = options.filter ?? {};
  const dryRun = options.dryRun === true;
  const summary = await store.summary(batch);
  if (!summary) return null;
  const baseDir = await batchBaseDir(summary.manifest ?? '.');
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const byVendor: Record<Vendor, number> = Object.fromEntries(Object.keys(queues).map((v) => [v, 0]));
  const byCode: Record<string, number> = {};
  let lines = 0;
  let requeued = 0;
  let invalid = 0;
  let notMatched = 0;
  let started = false;
  let s3Check = options.onS3Line;
  let pending: JobPayload[] = [];
  const flush = async () => {
    if (!started) {
      started = true;
      await options.beforeEnqueue?.();
    }
    const s3Jobs = pending.filter((p) => needsS3(p)).map((p) => jobId(p.batch, p.line));
    if (s3Jobs.length > 0) await options.onS3Jobs?.(s3Jobs);
    const byQueue = new Map<Vendor, JobPayload[]>();
    for (const p of pending) {
      const vendor = checks.vendorOf(p.check);
      byQueue.set(vendor, [...(byQueue.get(vendor) ?? []), p]);
    }
    await Promise.all(
      [...byQueue].map(([v, list]) =>
        queueOf(queues, v).addBulk(list.map((data) => ({ name: data.check, data, opts: { jobId: jobId(data.batch, data.line) } }))),
      ),
    );
    requeued += pending.length;
    pending = [];
  };
  for await (const record of store.stream(batch)) {
    if (record.status !== 'failed') continue;
    if (!matches(record, filter, checks)) {
      notMatched += 1;
      continue;
    }
    const payload = retryPayload(record, baseDir);
    if (payload === null || !checks.has(payload.check)) {
      invalid += 1;
      continue;
    }
    lines += 1;
    const vendor = checks.vendorOf(payload.check);
    byVendor[vendor] = (byVendor[vendor] ?? 0) + 1;
    const code = String(record.error?.code ?? '');
    byCode[code] = (byCode[code] ?? 0) + 1;
    if (dryRun) continue;
    if (s3Check && needsS3(payload)) {
      const check = s3Check;
      s3Check = undefined;
      await check();
    }
    pending.push(payload);
    if (pending.length >= chunkSize) await flush();
  }
  if (pending.length > 0) await flush();
  return {
    batch,
    dryRun,
    lines,
    byVendor,
    byCode,
    requeued,
    invalid,
    notMatched,
    rejected: summary.byStatus.rejected,
    completed: summary.byStatus.completed,
  };
}
