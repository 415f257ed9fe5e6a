/** Read-only commands: status (and --watch), batches, results, result. */
import { stringify } from 'csv-stringify';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ATTEMPT_CSV_COLUMNS,
  attemptCsvRow,
  batchAttempts,
  batchRecords,
  batchStatus,
  batchSummary,
  CSV_COLUMNS,
  csvRow,
  describeFsError,
  isFinished,
  listBatches,
  recordByTransactionId,
  type AttemptRow,
  type Runtime,
  type VendorQuotaReport,
} from '../../app/index.js';
import { RECORD_STATUSES, type RecordStatus, type ResultRecord } from '../../checks/types.js';
import { RescreenError } from '../../errors/errors.js';
import { CliError, ExitCode } from '../cli-error.js';
import { formatSummary, table } from '../format.js';
import { createProgressView } from '../progress.js';

/** `rescreen status`; returns the exit code (130 when `--watch` was stopped by Ctrl-C). */
export async function status(runtime: Runtime, batch: string, options: { watch?: boolean; intervalMs?: number } = {}): Promise<number> {
  let interrupted = false;
  let summary = await batchSummary(runtime, batch);
  if (options.watch) {
    const view = createProgressView({ tty: process.stdout.isTTY, stream: process.stdout });
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    try {
      for (;;) {
        view.update(summary);
        if (isFinished(summary) || stop.signal.aborted) break;
        await sleep(options.intervalMs ?? 500, undefined, { signal: stop.signal }).catch(() => undefined);
        summary = (await runtime.store.summary(batch)) ?? summary;
      }
    } finally {
      // Ctrl-C: the bar goes (cleared), so the summary below is not drawn over.
      view.stop({ clear: stop.signal.aborted });
      process.off('SIGINT', onSignal);
    }
    interrupted = stop.signal.aborted;
  }
  const now = await batchStatus(runtime, batch);
  process.stdout.write(`${formatSummary(now.summary, now.pending)}\n`);
  if (!now.finished) writeQuotaLines(now.quotas);
  return interrupted ? ExitCode.INTERRUPTED : ExitCode.OK;
}

/** The vendors' quota state (pause, spent budget, learned rate, too little concurrency), one line each. */
function writeQuotaLines(quotas: readonly VendorQuotaReport[]): void {
  for (const r of quotas) if (r.line !== undefined) process.stdout.write(`${r.line}\n`);
}

export interface ResultsOptions {
  readonly format: 'jsonl' | 'csv';
  /** Only records with this status. */
  readonly status?: RecordStatus;
  /** Write to this file atomically (a temporary file in the same folder, renamed when complete) instead of stdout. */
  readonly output?: string;
  /** Export the attempt log (one row per answered vendor call) instead of the records. */
  readonly attempts?: boolean;
}

export function parseStatus(value: string): RecordStatus {
  if (!(RECORD_STATUSES as readonly string[]).includes(value)) {
    throw new CliError(`--status must be one of ${RECORD_STATUSES.join(', ')}`, 2);
  }
  return value as RecordStatus;
}

/** `rescreen results`: to stdout, or atomically to `--output` (a reader never sees half a file). */
export async function results(runtime: Runtime, batch: string, options: ResultsOptions): Promise<number> {
  if (options.output === undefined) {
    try {
      return await writeResults(runtime, batch, options, process.stdout);
    } catch (error) {
      // The reader went away (`| head -1`): what it wanted, it has. End quietly, exit 0.
      if (isClosedPipe(error) || process.stdout.destroyed) throw new CliError('', ExitCode.OK);
      throw error;
    }
  }
  const target = options.output;
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.${Date.now()}.tmp`);
  const out = createWriteStream(temp, { flags: 'wx' });
  try {
    await once(out, 'open');
    const count = await writeResults(runtime, batch, options, out);
    out.end();
    await once(out, 'finish');
    await new Promise<void>((resolve, reject) => out.close((err) => (err ? reject(err) : resolve())));
    await rename(temp, target);
    return count;
  } catch (error) {
    out.destroy();
    await rm(temp, { force: true });
    if (error instanceof CliError || error instanceof RescreenError) throw error;
    throw new CliError(`cannot write ${target}: ${describeFsError(error)}`);
  }
}

/**
 * A full garbage collection, for long exports only. The export's live heap is flat (~25 MB for any
 * size), but V8 grows its heap lazily between collections: 10^6 records took the process to ~220 MB
 * of RSS. One collection every {@link GC_EVERY} rows (a few ms each) keeps it near its live size.
 * V8 only hands out `gc` with --expose-gc; set at run time, a fresh context gets it.
 */
const collectGarbage: () => void = (() => {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : () => undefined;
  } catch {
    return () => undefined;
  }
})();
const GC_EVERY = 50_000;

/** Streams the batch's records to `out` in line order, as JSONL or CSV, honouring back-pressure. */
async function writeResults(runtime: Runtime, batch: string, options: ResultsOptions, out: NodeJS.WritableStream): Promise<number> {
  const { format } = options;
  const records: AsyncIterable<unknown> = options.attempts
    ? batchAttempts(runtime, batch)
    : await batchRecords(runtime, batch, options.status !== undefined ? { status: options.status } : {});
  let count = 0;
  // Aborts every wait below once the output fails or is closed under us, so none hangs on a dead
  // stream. (One signal, not a race per wait: a race against a promise that never settles keeps a
  // reaction per call, which grew an export of 10^6 records by tens of MB.)
  const stop = new AbortController();
  let goneError: unknown;
  out.once('error', (error) => stop.abort((goneError ??= error)));
  out.once('close', () => stop.abort((goneError ??= Object.assign(new Error('output closed'), { code: 'EPIPE' }))));
  const waitFor = async (emitter: NodeJS.EventEmitter, event: string) => {
    try {
      await once(emitter, event, { signal: stop.signal });
    } catch (error) {
      throw goneError ?? error;
    }
  };
  const write = async (text: string) => {
    if (!out.write(text)) await waitFor(out, 'drain');
  };
  if (format === 'jsonl') {
    for await (const record of records) {
      await write(`${JSON.stringify(record)}\n`);
      count += 1;
      if (count % GC_EVERY === 0) collectGarbage();
    }
    return count;
  }
  const csv = stringify({ header: true, columns: options.attempts ? [...ATTEMPT_CSV_COLUMNS] : [...CSV_COLUMNS] });
  const toRow = (item: unknown) => (options.attempts ? attemptCsvRow(item as AttemptRow) : csvRow(item as ResultRecord));
  csv.on('data', (chunk: Buffer) => {
    if (!out.write(chunk)) csv.pause();
  });
  out.on('drain', () => csv.resume());
  const ended = waitFor(csv, 'end');
  ended.catch(() => undefined);
  for await (const record of records) {
    if (!csv.write(toRow(record))) await waitFor(csv, 'drain');
    count += 1;
    if (count % GC_EVERY === 0) collectGarbage();
  }
  csv.end();
  await ended;
  return count;
}

/** A write to a pipe whose reader has gone (EPIPE), or to a stream already destroyed because of it. */
function isClosedPipe(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED';
}

export async function result(runtime: Runtime, transactionId: string): Promise<void> {
  const record = await recordByTransactionId(runtime, transactionId);
  process.stdout.write(`${JSON.stringify(record, null, 2)}\n`);
}

/** `rescreen batches`: newest first, with their counts. */
export async function batches(runtime: Runtime, limit: number): Promise<void> {
  const list = await listBatches(runtime, limit);
  const rows: string[][] = [];
  for (const s of list.batches) {
    rows.push([
      s.batch,
      s.createdAt,
      s.producerDone ? String(s.total) : `${s.maxLine}+`,
      String(s.recorded),
      ...RECORD_STATUSES.map((st) => String(s.byStatus[st])),
      isFinished(s) ? 'finished' : 'running',
    ]);
  }
  if (rows.length === 0) {
    process.stdout.write('no batches yet\n');
    return;
  }
  process.stdout.write(`${table(['batch', 'created', 'lines', 'recorded', ...RECORD_STATUSES, 'state'], rows)}\n`);
  writeQuotaLines(list.quotas);
}
