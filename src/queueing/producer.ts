/**
 * The producer: streams a manifest into the vendor queues, in chunks, with flat memory.
 *
 * Per chunk (default 1000 lines): validate every line; ask BullMQ which job ids are still queued and
 * then the store which lines already have a record (in that order, so a job that finishes in between
 * is seen by one or the other: its processor writes the record before the job completes); `addBulk`
 * the rest per vendor queue; store a `failed` record for each new invalid line. A batch the store has
 * never seen skips the two look-ups (nothing of it can be queued or recorded yet): the first enqueue of
 * a batch costs one round trip per chunk and vendor, as a bare `addBulk` does. While one chunk's
 * Redis round trips are under way, the next chunk is read and validated (`maxInFlight` chunks at once).
 */
import { dirname, resolve } from 'node:path';
import type { BulkJobOptions, Queue } from 'bullmq';
import type { CheckName, CheckRegistry } from '../checks/registry.js';
import type { Vendor } from '../vendors/types.js';
import { DEFAULT_CHUNK_SIZE } from '../config/defaults.js';
import type { RateLimit } from '../config/rate-limit.js';
import { ErrorCodes, InvalidInputError, RescreenError } from '../errors/errors.js';
import type { FolderSkip, FolderSkipReason } from '../manifest/folder.js';
import type { ManifestFormat } from '../manifest/format.js';
import { validateBatchId, validateLine, type LineValidation } from '../manifest/line.js';
import type { CanaryLine } from '../drift/canary-set.js';
import { canaryJobLines, lastLineOf } from './canary-lines.js';
import { assertManifestReadable, readManifest } from '../manifest/reader.js';
import { createMediaProbe, type MediaProbe } from '../media/probe.js';
import type { ResultStore } from '../store/types.js';
import { ChunkWriter, type ChunkCounts } from './chunk-writer.js';
import { DryRunEstimator } from '../money/estimate.js';
import type { EnqueueProgress, EnqueueSummary } from './enqueue-summary.js';
import { admitJobs, type ProducerCursor, type PrefixPosition } from './producer-window.js';
import type { S3Access } from '../media/s3.js';
import { openCursor } from './prefix-cursor.js';
import { needsS3 } from '../config/s3.js';

/** What {@link enqueueManifest} needs. Queues and store are injected (tests use a fresh prefix). */
export interface EnqueueOptions {
  /**
   * The manifest file, a folder of media (one line per media file, see manifest/folder.ts), as
   * given (relative paths resolve against the working directory), or a bucket prefix
   * `s3://bucket/prefix/` (one line per object, see manifest/s3-prefix.ts).
   */
  readonly manifestPath: string;
  /** How a prefix manifest is listed (the runtime's `s3`). Needed for an `s3://` manifest only. */
  readonly s3?: S3Access;
  /** Awaited once, before the first line naming `s3://` media is written (or, dry run, probed): may throw to stop. */
  readonly onS3Line?: () => Promise<void>;
  /** The batch id; must pass `validateBatchId`. */
  readonly batch: string;
  /** The checks lines may name (their payload schemas, vendors, media caps): the runtime's `checks`. */
  readonly checks: CheckRegistry;
  /** `--check`: the check of lines that name none (a line's own check wins). */
  readonly checkOverride?: CheckName;
  /**
   * Validate, count and estimate only ({@link EnqueueSummary.estimate}): nothing is written; Redis is
   * only read (which lines already have a record). Default false.
   */
  readonly dryRun?: boolean;
  /** Dry run: how local media is probed. Default `createMediaProbe()` (pass the config's `photoMaxBytes`). */
  readonly probe?: MediaProbe;
  /** Dry run: the vendors' rate limits the time estimate uses (each `config.vendors[name].rateLimit`). Default none. */
  readonly rateLimits?: Readonly<Partial<Record<Vendor, RateLimit | undefined>>>;
  /** Overrides the format the extension implies. */
  readonly format?: ManifestFormat;
  /**
   * Where relative refs resolve. Default: the manifest's folder (a folder manifest: the folder itself).
   * The programmatic API sets it for lines it spooled to a temporary file.
   */
  readonly baseDir?: string;
  /** What the batch records as its manifest (`status` shows it). Default `manifestPath`. */
  readonly manifestLabel?: string;
  /** One BullMQ queue per vendor (created with the queue names of ./names.ts). */
  readonly queues: Readonly<Record<Vendor, Queue>>;
  readonly store: ResultStore;
  /** Told of every folder entry that makes no line (the CLI lists them at debug level). */
  readonly onSkip?: (skip: FolderSkip) => void;
  /** Lines per chunk (one `addBulk` per vendor per chunk). Default 1000. */
  readonly chunkSize?: number;
  /** Chunks whose Redis I/O may be under way at once while the next is read. Default 4. */
  readonly maxInFlight?: number;
  /**
   * Options added to every job (the job id is always {@link jobId}). Default none: the queue's
   * `defaultJobOptions` apply, so create the queues with `defaultJobOptions(tuning)`.
   */
  readonly jobOptions?: Omit<BulkJobOptions, 'jobId'>;
  /** `--dedupe`: lines whose vendor call is identical (same media bytes, check, options) share one paid answer. */
  readonly dedupe?: boolean;
  /** Called after each chunk is written (dry run: validated and estimated) with the counts so far. */
  readonly onProgress?: (progress: EnqueueProgress) => void;
  /** The clock of `finishedAt` on invalid-line records. Default `() => new Date()`. */
  readonly now?: () => Date;
  /**
   * RESCREEN_MAX_QUEUED: keep at most this many jobs waiting in the vendor queues (all batches),
   * feeding more as workers drain them, and keep a cursor in Redis so a restarted producer resumes
   * where it stopped (a manifest file only; a changed manifest is refused). Default: no window.
   */
  readonly maxQueued?: number;
  /** The manifest file's sha256 when the caller has read it already (the default batch id): the cursor's fingerprint. Default: read here. A prefix: `prefix:<its listing's sha256>`. */
  readonly manifestSha256?: string;
  /**
   * `--canary`: a canary set (src/drift/canary-set.ts) screened inside the batch, numbered after the
   * manifest's last line and queued before its first, ahead of every other job (BullMQ priority 1).
   */
  readonly canary?: { readonly lines: readonly CanaryLine[]; readonly threshold: number };
}

export type { EnqueueProgress, EnqueueSummary } from './enqueue-summary.js';

/** Invalid lines kept for the summary; the rest are only counted. */
export const MAX_INVALID_LINES_KEPT = 1_000;
export { DEFAULT_CHUNK_SIZE } from '../config/defaults.js';
export const DEFAULT_MAX_IN_FLIGHT = 4;

/**
 * Streams the manifest into the queues (README "The manifest" and "The result record").
 *
 * - `lines` is the number of records the batch will have: every manifest record, valid or not.
 * - Lines that already have a record are skipped (`alreadyRecorded`), so re-running on the same
 *   manifest and batch adds nothing that has a final record; lines whose job is still queued or
 *   running are skipped too (`alreadyQueued`).
 * - An invalid line gets a `failed` record with `error.code` `INVALID_LINE` and the reason.
 * - Calls `store.beginBatch` once the manifest proved readable, `store.finishBatch({total, maxLine})`
 *   at the end. A dry run validates, counts and estimates (`estimate`), reading Redis but writing nothing.
 *
 * @throws ManifestUnreadableError before anything is written when the manifest cannot be read
 *   (missing, no permission, a CSV header that names no column); mid-way on an I/O error.
 * @throws RescreenError `INVALID_BATCH_ID` when the batch id is not valid.
 */
export async function enqueueManifest(options: EnqueueOptions): Promise<EnqueueSummary> {
  const started = performance.now();
  const { batch, store, queues } = options;
  const dryRun = options.dryRun ?? false;
  // A window smaller than a chunk makes chunks of the window's size.
  const chunkSize = Math.max(1, Math.min(Math.floor(options.chunkSize ?? DEFAULT_CHUNK_SIZE), options.maxQueued ?? Infinity));
  const maxInFlight = Math.max(1, Math.floor(options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT));
  const now = options.now ?? (() => new Date());
  const { checks } = options;
  const validateOptions = options.checkOverride === undefined ? { checks } : { checks, checkOverride: options.checkOverride };

  if (options.checkOverride !== undefined && !checks.has(options.checkOverride)) {
    throw new InvalidInputError(`--check must be one of ${checks.names.join(', ')} (got ${JSON.stringify(options.checkOverride)})`);
  }
  const batchCheck = validateBatchId(batch);
  if (!batchCheck.ok) throw new RescreenError(ErrorCodes.INVALID_BATCH_ID, batchCheck.reason);

  const kind = await assertManifestReadable(options.manifestPath);
  // A folder is its own base: its lines' refs are relative to it.
  const baseDir = options.baseDir ?? (kind === 'folder' ? resolve(options.manifestPath) : kind === 's3' ? process.cwd() : dirname(resolve(options.manifestPath)));
  const skipped: Record<FolderSkipReason, number> = { 'not-media': 0, 'not-for-check': 0, 'folder-walked': 0 };
  const openReader = (after?: { line: number; key: string }) =>
    readManifest(options.manifestPath, {
      ...(options.format !== undefined ? { format: options.format } : {}),
      checks,
      ...(options.checkOverride !== undefined ? { check: options.checkOverride } : {}),
      ...(options.s3 !== undefined ? { s3: options.s3 } : {}),
      ...(after !== undefined ? { after } : {}),
      onSkip: (skip) => {
        skipped[skip.reason]++;
        options.onSkip?.(skip);
      },
    });
  // A prefix is listed once the cursor says from which key (a file or folder is opened now).
  let reader = kind === 's3' && !dryRun && options.maxQueued !== undefined ? undefined : openReader();
  /** A prefix manifest: the key of the last line read, and the counts up to it (what its cursor keeps). */
  let lastKey: string | undefined;
  let s3Check = options.onS3Line;
  const position = (): PrefixPosition | undefined =>
    lastKey === undefined ? undefined : { key: lastKey, counts: { lines: counts.lines, invalid: counts.invalid, byCheck: { ...byCheck } } };

  const counts = { lines: 0, enqueued: 0, alreadyRecorded: 0, alreadyQueued: 0, invalid: 0, maxLine: 0 };
  const invalidLines: { line: number; reason: string }[] = [];
  const byCheck: Record<CheckName, number> = Object.fromEntries(checks.names.map((c) => [c, 0]));
  const progress = (): EnqueueProgress => ({
    batch,
    lines: counts.lines,
    enqueued: counts.enqueued,
    alreadyRecorded: counts.alreadyRecorded,
    alreadyQueued: counts.alreadyQueued,
    invalid: counts.invalid,
  });

  const writer = new ChunkWriter({ batch, baseDir, checks, queues, store, now, jobOptions: options.jobOptions, dedupe: options.dedupe ?? false });
  const estimator = dryRun ? new DryRunEstimator({ batch, baseDir, checks, store, probe: options.probe ?? createMediaProbe() }) : undefined;
  const inFlight: Promise<void>[] = [];
  let cursorChain: Promise<unknown> = Promise.resolve();
  /** Chunks whose writes have not settled (the window counts them as queued already). */
  const pending = new Set<Promise<void>>();
  const queueList: Queue[] = Object.values(queues);
  const windowed = !dryRun && options.maxQueued !== undefined;
  let cursor: ProducerCursor | undefined;
  let resumeAfter = 0;
  let failure: { error: unknown } | undefined;
  let canaryFrom = 0;
  let newBatch = false;
  const flush = (chunk: LineValidation[]): void => {
    // A dry run reads which lines have a record and probes the media instead of writing.
    const written: Promise<ChunkCounts> = estimator
      ? estimator.add(chunk).then((d) => ({ enqueued: 0, alreadyQueued: 0, alreadyRecorded: d.alreadyRecorded }))
      : writer.write(chunk);
    inFlight.push(
      written
        .then((done) => {
          counts.enqueued += done.enqueued;
          counts.alreadyRecorded += done.alreadyRecorded;
          counts.alreadyQueued += done.alreadyQueued;
          options.onProgress?.(progress());
        })
        .catch((error: unknown) => {
          failure ??= { error };
        })
        .finally(() => pending.delete(entry)),
    );
    const entry = inFlight[inFlight.length - 1]!;
    pending.add(entry);
  };

  try {
    // The first read opens the file (and parses a CSV header): unreadable manifests fail here,
    // before the batch is registered.
    let next = reader ? await reader.next() : undefined;
    if (!dryRun) {
      // A batch the store has never seen (no summary: every record and every beginBatch registers
      // one) has no record and, since jobs are only added after beginBatch, no job: its chunks skip
      // the two look-ups. Two producers starting the same new batch at once stay safe: BullMQ adds
      // nothing for a job id still queued, and a worker never calls a vendor for a recorded line.
      if (windowed && kind !== 'folder' && queueList[0] !== undefined) {
        // Before anything is written: a changed manifest under an unfinished batch is refused here.
        const manifest = { kind, path: options.manifestPath, sha256: options.manifestSha256, s3: options.s3, checks, check: options.checkOverride };
        cursor = await openCursor(queueList[0], batch, manifest);
        resumeAfter = await cursor.start(batch);
        if (cursor.resumed) {
          // A prefix resumes after the cursor's key: its lines up to there are not listed again.
          const saved = cursor.resumed.counts;
          reader = openReader({ line: resumeAfter, key: cursor.resumed.key });
          Object.assign(counts, { lines: saved.lines, invalid: saved.invalid, alreadyQueued: saved.lines, maxLine: resumeAfter });
          for (const [check, n] of Object.entries(saved.byCheck)) if (check in byCheck) byCheck[check] = n;
        }
      }
      newBatch = (await store.summary(batch)) === null;
      if (newBatch) writer.assumeNewBatch();
      await store.beginBatch(batch, options.manifestLabel ?? options.manifestPath);
    }
    if (options.canary !== undefined) {
      // Numbered after the manifest's last line (one more read of it), queued before its first.
      canaryFrom = (await lastLineOf(options.manifestPath, options)) + 1;
      const lines = canaryJobLines(options.canary, canaryFrom);
      for (const l of lines) byCheck[l.check] = (byCheck[l.check] ?? 0) + 1;
      const canaryWriter = new ChunkWriter({ batch, baseDir, checks, queues, store, now, jobOptions: { ...options.jobOptions, priority: 1 } });
      if (newBatch) canaryWriter.assumeNewBatch();
      const done = estimator ? await estimator.add(lines).then((d) => ({ enqueued: 0, alreadyQueued: 0, alreadyRecorded: d.alreadyRecorded })) : await canaryWriter.write(lines);
      counts.enqueued += done.enqueued;
      counts.alreadyRecorded += done.alreadyRecorded;
      counts.alreadyQueued += done.alreadyQueued;
    }
    reader ??= openReader();
    next ??= await reader.next();
    let chunk: LineValidation[] = [];
    for (; next.done !== true; next = await reader.next()) {
      lastKey = (next.value as { key?: string }).key;
      const validated = validateLine(next.value, validateOptions);
      if (s3Check && validated.ok && needsS3(validated)) {
        const check = s3Check;
        s3Check = undefined;
        await check();
      }
      counts.lines++;
      if (validated.line > counts.maxLine) counts.maxLine = validated.line;
      if (validated.ok) byCheck[validated.check] = (byCheck[validated.check] ?? 0) + 1;
      else {
        counts.invalid++;
        if (invalidLines.length < MAX_INVALID_LINES_KEPT) invalidLines.push({ line: validated.line, reason: validated.reason });
      }
      // Resuming: every line up to the cursor was written by an earlier pass (queued or recorded).
      if (validated.line <= resumeAfter) {
        counts.alreadyQueued++;
        continue;
      }
      chunk.push(validated);
      if (chunk.length >= chunkSize) {
        // Chunks still being written count as queued already: the window holds strictly.
        if (windowed) await admitJobs(queueList, options.maxQueued, chunk.length + pending.size * chunkSize);
        flush(chunk);
        if (cursor) {
          // In chunk order: the cursor only ever passes lines that are written, and those before them.
          const [written, line, c, at] = [inFlight[inFlight.length - 1]!, chunk[chunk.length - 1]!.line, cursor, position()];
          cursorChain = cursorChain.then(() => written).then(() => (failure ? undefined : c.advance(line, at)));
        }
        chunk = [];
        while (inFlight.length >= maxInFlight) await inFlight.shift();
        if (failure) break;
      }
    }
    if (chunk.length > 0 && !failure) {
      if (windowed) await admitJobs(queueList, options.maxQueued, chunk.length + pending.size * chunkSize);
      flush(chunk);
    }
  } finally {
    await Promise.all(inFlight);
    await cursorChain.catch(() => undefined);
    await reader?.return(undefined);
  }
  if (failure) throw failure.error;
  await cursor?.advance(counts.maxLine, position());
  await cursor?.finish();

  const canaryCount = options.canary?.lines.length ?? 0;
  const canaryTo = canaryFrom + canaryCount - 1;
  const total = counts.lines + canaryCount;
  const maxLine = canaryCount > 0 ? Math.max(counts.maxLine, canaryTo) : counts.maxLine;
  if (!dryRun) await store.finishBatch(batch, { total, maxLine });
  return {
    ...progress(),
    lines: total,
    dryRun,
    maxLine,
    invalidLines,
    byCheck,
    durationMs: Math.round(performance.now() - started),
    ...(kind !== 'file' ? { skipped } : {}),
    ...(estimator ? { estimate: estimator.result(options.rateLimits) } : {}),
    ...(canaryCount > 0 ? { canary: { lines: canaryCount, from: canaryFrom, to: canaryTo } } : {}),
  };
}

