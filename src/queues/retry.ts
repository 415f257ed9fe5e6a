/**
 * Second chances: re-enqueue the lines of a batch whose record is `failed` (no answer: retries
 * exhausted, unreadable media). `rejected` records are final answers about the media and are never
 * re-sent; invalid manifest lines cannot be sent at all (fix the manifest and enqueue it again).
 * The old record stands until the new one lands (the worker replaces it in one atomic write).
 */
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Queue } from 'bullmq';
import type { CheckRegistry } from '../checks/registry.js';
import type { Vendor } from '../vendors/types.js';
import type { JobPayload, ResultRecord } from '../checks/types.js';
import { DEFAULT_CHUNK_SIZE } from '../config/defaults.js';
import { ErrorCodes } from '../errors/errors.js';
import type { ResultStore } from '../store/types.js';
import { jobId, queueOf } from './names.js';

export interface RetrySummary {
  readonly batch: string;
  /** Failed lines sent back to the queues. */
  readonly requeued: number;
  /** Failed lines that are invalid manifest lines: nothing to send. */
  readonly invalid: number;
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
    // A reused answer's line keeps sharing (its record says where the answer came from).
    ...(record.reusedFrom !== undefined ? { dedupe: true as const } : {}),
    baseDir,
    retry: true,
  };
}

export async function retryFailed(options: {
  batch: string;
  store: ResultStore;
  /** Which vendor queue each check goes to. */
  checks: CheckRegistry;
  queues: Readonly<Record<Vendor, Queue<JobPayload>>>;
  chunkSize?: number;
}): Promise<RetrySummary | null> {
  const { batch, store, queues } = options;
  const summary = await store.summary(batch);
  if (!summary) return null;
  const baseDir = await batchBaseDir(summary.manifest ?? '.');
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  let requeued = 0;
  let invalid = 0;
  let pending: JobPayload[] = [];
  const flush = async () => {
    const byVendor = new Map<Vendor, JobPayload[]>();
    for (const p of pending) {
      const vendor = options.checks.vendorOf(p.check);
      byVendor.set(vendor, [...(byVendor.get(vendor) ?? []), p]);
    }
    await Promise.all(
      [...byVendor].map(([v, list]) =>
        queueOf(queues, v).addBulk(list.map((data) => ({ name: data.check, data, opts: { jobId: jobId(data.batch, data.line) } }))),
      ),
    );
    requeued += pending.length;
    pending = [];
  };
  for await (const record of store.stream(batch)) {
    if (record.status !== 'failed') continue;
    const payload = retryPayload(record, baseDir);
    if (payload === null) {
      invalid += 1;
      continue;
    }
    pending.push(payload);
    if (pending.length >= chunkSize) await flush();
  }
  if (pending.length > 0) await flush();
  return {
    batch,
    requeued,
    invalid,
    rejected: summary.byStatus.rejected,
    completed: summary.byStatus.completed,
  };
}
