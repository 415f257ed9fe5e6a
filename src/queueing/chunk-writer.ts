/**
 * The producer's writes of one validated chunk of manifest lines (see producer.ts): which of its
 * lines are already queued (one script call per vendor queue) or recorded (one store call), then one
 * `addBulk` per vendor queue and one `putMany` of the invalid lines' `failed` records.
 */
import type { BulkJobOptions, Queue } from 'bullmq';
import type { CheckName, CheckRegistry } from '../checks/registry.js';
import type { Vendor } from '../vendors/types.js';
import type { JobPayload, ResultRecord } from '../checks/types.js';
import { ErrorCodes } from '../errors/errors.js';
import type { InvalidLine, LineValidation, ValidLine } from '../manifest/line.js';
import type { ResultStore } from '../store/types.js';
import { recordRefs } from '../media/refs.js';
import { scripts } from '../redis/scripts.js';
import { jobId, queueOf } from './names.js';

/**
 * Whether each job key exists, in one round trip (src/redis/lua/jobs-exist-1.lua), on BullMQ's own
 * client: the call is routed by the queue's meta key, which shares the job keys' slot.
 */
async function jobsExist(queue: Queue, jobKeys: readonly string[]): Promise<boolean[]> {
  const result: unknown = await scripts.jobsExist(await queue.client, { metaKey: queue.toKey('meta'), jobKeys });
  if (!Array.isArray(result)) throw new TypeError('job existence check returned no list');
  return result.map((v) => Number(v) === 1);
}

export interface ChunkCounts {
  readonly enqueued: number;
  readonly alreadyRecorded: number;
  readonly alreadyQueued: number;
}

export interface ChunkWriterDeps {
  readonly batch: string;
  readonly baseDir: string;
  /** Which vendor queue each check goes to. */
  readonly checks: CheckRegistry;
  readonly queues: Readonly<Record<Vendor, Queue>>;
  readonly store: ResultStore;
  readonly now: () => Date;
  readonly jobOptions: Omit<BulkJobOptions, 'jobId'> | undefined;
  /** `--dedupe`: marks every job so identical calls share one answer. */
  readonly dedupe?: boolean;
}

/** Writes one validated chunk: three round trips whatever its size. */
export class ChunkWriter {
  /** The batch was unknown to the store when enqueueing began: nothing of it can be queued or recorded. */
  private newBatch = false;

  constructor(private readonly deps: ChunkWriterDeps) {}

  /** Skips the "already queued / already recorded" look-ups (see enqueueManifest). */
  assumeNewBatch(): void {
    this.newBatch = true;
  }

  async write(chunk: readonly LineValidation[]): Promise<ChunkCounts> {
    const { batch, store } = this.deps;
    const valid = chunk.filter((l): l is ValidLine => l.ok);
    const queued = this.newBatch ? new Set<number>() : await this.queuedJobs(valid);
    const recorded = this.newBatch ? [] : await store.has(batch, chunk.map((l) => l.line));

    const jobs = new Map<Vendor, { name: CheckName; data: JobPayload; opts: BulkJobOptions }[]>();
    const failed: ResultRecord[] = [];
    let alreadyRecorded = 0;
    let alreadyQueued = 0;
    let enqueued = 0;
    chunk.forEach((line, index) => {
      if (recorded[index] === true) {
        alreadyRecorded++;
      } else if (!line.ok) {
        failed.push(this.failedRecord(line));
      } else if (queued.has(line.line)) {
        alreadyQueued++;
      } else {
        const vendor = this.deps.checks.vendorOf(line.check);
        let list = jobs.get(vendor);
        if (list === undefined) jobs.set(vendor, (list = []));
        list.push({ name: line.check, data: this.payload(line), opts: { ...this.deps.jobOptions, jobId: jobId(batch, line.line) } });
        enqueued++;
      }
    });

    await Promise.all([
      store.putMany(failed),
      ...[...jobs].map(async ([vendor, list]) => {
        await queueOf(this.deps.queues, vendor).addBulk(list);
      }),
    ]);
    return { enqueued, alreadyRecorded, alreadyQueued };
  }

  /** Lines of the chunk whose job is still in its queue (waiting, delayed, active): one script call per queue. */
  private async queuedJobs(valid: readonly ValidLine[]): Promise<Set<number>> {
    const found = new Set<number>();
    await Promise.all(
      this.deps.checks.vendors.map(async (vendor) => {
        const lines = valid.filter((l) => this.deps.checks.vendorOf(l.check) === vendor).map((l) => l.line);
        if (lines.length === 0) return;
        const queue = queueOf(this.deps.queues, vendor);
        const exists = await jobsExist(queue, lines.map((line) => queue.toKey(jobId(this.deps.batch, line))));
        lines.forEach((line, index) => {
          if (exists[index] === true) found.add(line);
        });
      }),
    );
    return found;
  }

  private payload(line: ValidLine): JobPayload {
    return {
      batch: this.deps.batch,
      line: line.line,
      check: line.check,
      subject: line.subject,
      ...(line.ref !== undefined ? { ref: line.ref } : {}),
      ...(line.frames !== undefined ? { frames: line.frames } : {}),
      ...(line.options !== undefined ? { options: line.options } : {}),
      ...(line.previous !== undefined ? { previous: line.previous } : {}),
      ...(line.enrolledTemplateId !== undefined ? { enrolledTemplateId: line.enrolledTemplateId } : {}),
      // A canary is screened for real every time: it never borrows another line's answer.
      ...(line.canary !== undefined ? { canary: line.canary } : this.deps.dedupe === true ? { dedupe: true as const } : {}),
      baseDir: this.deps.baseDir,
    };
  }

  private failedRecord(line: InvalidLine): ResultRecord {
    return {
      batch: this.deps.batch,
      line: line.line,
      subject: line.subject,
      // Never a signed URL's token in a record.
      ...recordRefs(line),
      check: line.check,
      status: 'failed',
      transactionId: null,
      verdict: null,
      score: null,
      error: { code: ErrorCodes.INVALID_LINE, message: line.reason },
      attempts: 0,
      finishedAt: this.deps.now().toISOString(),
      response: null,
    };
  }
}
