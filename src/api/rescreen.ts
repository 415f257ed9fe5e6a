/**
 * The programmatic API: what the CLI does, as typed calls on one object. Thin over the application
 * layer (src/app), which the CLI uses too; configuration is injected (an environment record or a
 * parsed Config), never read from `process.env` behind the caller's back.
 */
import { basename } from 'node:path';
import {
  batchRecords,
  batchStatus,
  credentialedVendors,
  enqueueBatch,
  isFinished,
  listBatches,
  pickEnqueueOptions,
  loadConfig,
  openRuntime,
  recordByTransactionId,
  retryBatch,
  startWorkers,
  subjectRecords,
  vendorsOf,
  waitForBatch as waitForBatchApp,
  waitUntilIdle,
  type BatchStatus,
  type BatchSummary,
  type EnqueueOptions as AppEnqueueOptions,
  type EnqueueSummary,
  type RetryArgs,
  type RetrySummary,
  type WorkerHandle,
} from '../app/index.js';
import type { Vendor } from '../app/index.js';
import type { RecordStatus, ResultRecord } from '../checks/types.js';
import type { Config } from '../config/config.js';
import { WaitTimeoutError, type VendorError } from '../errors/errors.js';
import { createLogger, type Logger } from '../log/logger.js';
import { spoolLines, type ManifestLine } from './lines.js';

/** Options of {@link createRescreen}. */
export interface RescreenOptions {
  /**
   * The configuration as environment variables, exactly as the CLI reads them (`REDIS_URL`,
   * `RESCREEN_PREFIX`, `OOTO_BASE_URL`, `OOTO_APP_ID`, …: README "Configuration"). Default `{}`:
   * every default. Pass `process.env` to configure it the way the CLI is configured.
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** A configuration already parsed with {@link loadConfig}; wins over `env`. */
  readonly config?: Config;
  /** A pino logger. Default: JSON lines on stderr at `LOG_LEVEL` (default `info`). */
  readonly logger?: Logger;
}

/**
 * A manifest: a path to a JSONL/CSV file or to a folder of media (as for `rescreen enqueue`), or
 * lines given in code.
 */
export type ManifestInput =
  | string
  | {
      /** JSONL text lines or objects, one per manifest line (blank strings are skipped, as in a file). */
      readonly lines: AsyncIterable<ManifestLine> | Iterable<ManifestLine>;
      /** Where relative `ref`s and `frames` resolve. Default: the working directory. */
      readonly baseDir?: string;
      /** Name of the default batch id (`<name>-<hash of the lines>`). Default `lines`. */
      readonly name?: string;
    };

/**
 * Options of {@link Rescreen.enqueue}: the enqueue options the CLI's flags and the HTTP API's query
 * parameters are too (src/app/enqueue-options.ts), by their camelCase names: `batch` (default: the
 * manifest's name plus a hash of its content, so enqueueing the same lines twice pays nothing twice),
 * `check`, `dryRun`, `maxCalls`, `maxSpend`, `priority`, `dedupe`.
 */
export type EnqueueOptions = AppEnqueueOptions;

/** Options of {@link Rescreen.work}. */
export interface WorkOptions {
  /** Jobs at once per vendor queue. Default: `RESCREEN_CONCURRENCY`. */
  readonly concurrency?: number;
  /** Vendors to work for. Default: every vendor with credentials (one without them and with jobs queued is an error). */
  readonly vendors?: readonly Vendor[];
}

/** Workers running in this process. */
export interface Workers {
  /** The vendors these workers take jobs for. */
  readonly vendors: readonly Vendor[];
  /** Records these workers have written so far. */
  recordsWritten(): number;
  /** Vendors that stopped because they refused the credentials (their jobs stay queued), with the reason. */
  stoppedVendors(): ReadonlyMap<Vendor, VendorError>;
  /**
   * Resolves once no job is waiting, delayed or active (every vendor, every batch), jobs of paused
   * or capped batches aside (they wait for a person) — `work --until-idle`.
   */
  untilIdle(options?: { signal?: AbortSignal }): Promise<void>;
  /** Stops taking jobs and waits for the jobs under way (`force`: does not wait). Idempotent. */
  close(force?: boolean): Promise<void>;
}

/** Options of {@link Rescreen.waitForBatch}. */
export interface WaitOptions {
  /** Give up after this long with a {@link WaitTimeoutError} (`WAIT_TIMEOUT`). Default: wait for ever. */
  readonly timeoutMs?: number;
  /** Stop waiting when aborted (rejects with the signal's reason). */
  readonly signal?: AbortSignal;
  /** Polling interval, ms. Default 100. */
  readonly pollMs?: number;
  /** Sees every summary read while waiting. */
  readonly onProgress?: (summary: BatchSummary) => void;
}

/** What {@link Rescreen.run} did. */
export interface RunResult {
  readonly enqueued: EnqueueSummary;
  /** The batch once every line has its record. */
  readonly summary: BatchSummary;
}

/** rescreen, connected: one Redis connection, its queues and result store. Close it when done. */
export interface Rescreen {
  /** The configuration in force (holds the credentials: do not log it). */
  readonly config: Config;
  /** The key prefix every key of this instance lives under. */
  readonly prefix: string;
  /**
   * Streams a manifest into the queues, as `rescreen enqueue` does. Every line, valid or not, ends as
   * exactly one record; invalid lines get a `failed` record at once and are listed in `invalidLines`.
   * @throws InvalidInputError (`INVALID_INPUT`) for a bad batch id or a manifest that cannot be read.
   */
  enqueue(manifest: ManifestInput, options?: EnqueueOptions): Promise<EnqueueSummary>;
  /**
   * Starts workers in this process (one per vendor queue, plus scheduled firings), as `rescreen work`.
   * @throws InvalidInputError naming the variables when a vendor with jobs queued has no credentials.
   */
  work(options?: WorkOptions): Promise<Workers>;
  /**
   * Enqueue, work until the batch has every record, stop the workers: `rescreen run`. Honours
   * `timeoutMs`/`signal` of {@link WaitOptions}.
   * @throws the vendor's AuthenticationError / PermissionDeniedError when a vendor the batch needs refuses the credentials (its jobs stay queued).
   */
  run(manifest: ManifestInput, options?: EnqueueOptions & WorkOptions & WaitOptions): Promise<RunResult>;
  /**
   * Resolves with the batch's summary once every line has its record (workers must be running,
   * here or elsewhere).
   * @throws WaitTimeoutError (`WAIT_TIMEOUT`) after `timeoutMs`, naming how far the batch got.
   */
  waitForBatch(batch: string, options?: WaitOptions): Promise<BatchSummary>;
  /**
   * The batch's records in manifest line order, streamed (flat memory), optionally of one status.
   * @throws NotFoundError (`NOT_FOUND`) when there is no such batch.
   */
  records(batch: string, options?: { status?: RecordStatus }): AsyncIterable<ResultRecord>;
  /**
   * Counts by status and verdict, whether it is finished, jobs pending per vendor, the quota state.
   * @throws NotFoundError when there is no such batch.
   */
  status(batch: string): Promise<BatchStatus>;
  /** Batches, newest first (at most `limit`, default 100). */
  batches(options?: { limit?: number }): Promise<BatchSummary[]>;
  /** The record of one vendor transaction. @throws NotFoundError when none has that id. */
  record(transactionId: string): Promise<ResultRecord>;
  /** Every record of a subject across batches, oldest first. */
  subject(subject: string, options?: { limit?: number }): Promise<ResultRecord[]>;
  /**
   * Re-enqueues the batch's `failed` lines (never `rejected` ones), all or those `options` picks (by
   * error code, vendor, check, failed since), or with `dryRun` only counts and prices them: `rescreen retry`.
   * @throws NotFoundError; InvalidInputError for an unusable filter.
   */
  retry(batch: string, options?: RetryArgs): Promise<RetrySummary>;
  /** Stops the workers this instance started, then closes its connections. Idempotent. */
  close(): Promise<void>;
}

/**
 * Connects to Redis (failing fast, `REDIS_UNAVAILABLE`, when it does not answer) and returns the API.
 * Nothing runs until you call it: no worker starts unless {@link Rescreen.work} (or `run`) is called.
 *
 * @example
 * ```ts
 * const rescreen = await createRescreen({ env: process.env });
 * const { summary } = await rescreen.run('backlog.jsonl', { batch: 'q3', timeoutMs: 600_000 });
 * for await (const record of rescreen.records('q3')) console.log(record.line, record.verdict);
 * await rescreen.close();
 * ```
 * @throws ConfigError (`CONFIG_INVALID`) for a refused variable; RedisUnavailableError when Redis does not answer.
 */
export async function createRescreen(options: RescreenOptions = {}): Promise<Rescreen> {
  const config = options.config ?? loadConfig(options.env ?? {});
  const log = options.logger ?? createLogger(config.logLevel, { pretty: false });
  const runtime = await openRuntime(config, log);
  const workers = new Set<Workers>();
  let closing: Promise<void> | undefined;

  const enqueue = async (manifest: ManifestInput, opts: EnqueueOptions = {}): Promise<EnqueueSummary> => {
    const args = pickEnqueueOptions(opts);
    if (typeof manifest === 'string') return enqueueBatch(runtime, { manifest, ...args });
    const name = manifest.name ?? 'lines';
    const spool = await spoolLines(manifest.lines, basename(name));
    const baseDir = manifest.baseDir ?? process.cwd();
    try {
      // The label is a file in baseDir, so `retry` finds the media where the lines said (see queueing/retry.ts).
      return await enqueueBatch(runtime, { manifest: spool.path, ...args, baseDir, manifestLabel: `${baseDir.replace(/\/+$/, '')}/${basename(spool.path)}` });
    } finally {
      await spool.remove();
    }
  };

  const work = async (opts: WorkOptions = {}, required: ReadonlySet<Vendor> = new Set()): Promise<Workers> => {
    const vendors = await credentialedVendors(runtime, opts.vendors ?? runtime.vendors.map((v) => v.name), required);
    const handle: WorkerHandle = startWorkers(runtime, { vendors, ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}) });
    const running: Workers = {
      vendors,
      recordsWritten: () => handle.recordsWritten(),
      stoppedVendors: () => handle.pool.stoppedVendors,
      untilIdle: async (o = {}) => {
        await waitUntilIdle(handle.pool, {
          pollMs: 200,
          ...(o.signal ? { signal: o.signal } : {}),
          also: [handle.schedules, handle.review, ...(handle.notifications ? [handle.notifications] : [])],
        });
      },
      close: async (force = false) => {
        workers.delete(running);
        await handle.close(force);
      },
    };
    workers.add(running);
    return running;
  };

  const waitForBatch = async (batch: string, opts: WaitOptions = {}, giveUp: () => Error | undefined = () => undefined): Promise<BatchSummary> => {
    const deadline = opts.timeoutMs === undefined ? Infinity : Date.now() + opts.timeoutMs;
    let reason: Error | undefined;
    const summary = await waitForBatchApp(runtime, batch, {
      pollMs: opts.pollMs ?? 100,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      stopWhen: () => (reason = giveUp()) !== undefined || Date.now() >= deadline,
    });
    opts.signal?.throwIfAborted();
    if (reason && !(summary && isFinished(summary))) throw reason;
    if (summary && isFinished(summary)) return summary;
    const got = summary ? `${summary.recorded} of ${summary.producerDone ? summary.total : `${summary.maxLine}+`} lines recorded` : 'no such batch yet';
    throw new WaitTimeoutError(`batch ${JSON.stringify(batch)} not finished within ${opts.timeoutMs ?? 0} ms (${got})`);
  };

  return {
    config,
    prefix: config.prefix,
    enqueue,
    work: (opts) => work(opts),
    run: async (manifest, opts = {}) => {
      const enqueued = await enqueue(manifest, { ...opts, dryRun: false });
      const needed = vendorsOf(enqueued, (check) => runtime.checks.vendorOf(check));
      const running = await work(opts, needed);
      // As `rescreen run`: a vendor the batch needs that refused the credentials ends the wait (its jobs stay queued).
      const refused = (): Error | undefined => [...running.stoppedVendors()].find(([vendor]) => needed.has(vendor))?.[1];
      try {
        return { enqueued, summary: await waitForBatch(enqueued.batch, opts, refused) };
      } finally {
        await running.close();
      }
    },
    waitForBatch: (batch, opts) => waitForBatch(batch, opts),
    records: (batch, opts = {}) => ({
      // Lazy: the NotFoundError comes on the first iteration.
      async *[Symbol.asyncIterator]() {
        yield* await batchRecords(runtime, batch, opts);
      },
    }),
    status: (batch) => batchStatus(runtime, batch),
    batches: async (opts = {}) => (await listBatches(runtime, opts.limit ?? 100)).batches,
    record: (transactionId) => recordByTransactionId(runtime, transactionId),
    subject: (subject, opts = {}) => subjectRecords(runtime, subject, opts.limit),
    retry: (batch, opts) => retryBatch(runtime, batch, opts),
    close: () =>
      (closing ??= (async () => {
        await Promise.all([...workers].map((w) => w.close()));
        await runtime.close();
      })()),
  };
}
