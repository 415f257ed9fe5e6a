/** Read-only commands: status (and --watch), batches, results, result. */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ATTEMPT_CSV_COLUMNS,
  attemptCsvRow,
  batchAttempts,
  batchBudget,
  batchRecords,
  batchStatus,
  batchSummary,
  describeAnsweredBy,
  csvColumns,
  csvRow,
  describeBudget,
  describeChangeCounts,
  describeDrift,
  describeFailureGuard,
  isFinished,
  listBatches,
  recordByTransactionId,
  type AttemptRow,
  type BatchSummary,
  type Runtime,
  type VendorQuotaReport,
} from '../../app/index.js';
import { RECORD_STATUSES, type RecordStatus } from '../../checks/types.js';
import { CliError, ExitCode } from '../cli-error.js';
import { writeRows } from '../output.js';
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
        view.update(summary, await heldReason(runtime, summary));
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
  for (const reason of now.waiting) process.stdout.write(`waiting: ${reason}\n`);
  for (const warning of now.warnings) process.stdout.write(`warning: ${warning}\n`);
  const answered = describeAnsweredBy(now.answeredBy);
  if (answered !== undefined) process.stdout.write(`${answered}\n`);
  if (now.budget.totalPaidCalls > 0 || now.budget.maxCalls !== null || now.budget.maxSpend !== null) {
    process.stdout.write(`${describeBudget(now.budget)}\n`);
  }
  const guard = describeFailureGuard(now.budget);
  if (guard !== undefined) process.stdout.write(`${guard}\n`);
  if (now.changes) process.stdout.write(`${describeChangeCounts(now.changes)}  (rescreen changes ${batch})\n`);
  else if (now.finished) process.stdout.write(`changes: not counted yet for a batch this size (rescreen changes ${batch} counts them)\n`);
  if (now.drift) process.stdout.write(`${describeDrift(now.drift)}  (rescreen drift ${batch})\n`);
  if (!now.finished) writeQuotaLines(now.quotas);
  return interrupted ? ExitCode.INTERRUPTED : ExitCode.OK;
}

/**
 * Why an unfinished batch makes no progress now, in a word for the progress view: `paused`, `at its
 * cap` (--max-calls / --max-spend reached); a rate and an ETA would mean nothing then.
 */
async function heldReason(runtime: Runtime, summary: BatchSummary): Promise<string | undefined> {
  if (isFinished(summary)) return undefined;
  const budget = await batchBudget(runtime, summary);
  if (budget.state === 'paused') return `paused${budget.guardTrip ? ' by its failure-rate guard' : ''} (rescreen batch resume ${summary.batch})`;
  if (budget.budgetReached) return `at its cap (rescreen batch raise ${summary.batch})`;
  return undefined;
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

/** `--format` when given, else csv for an `--output` ending in .csv, else jsonl. */
export function resultsFormat(format: 'jsonl' | 'csv' | undefined, output: string | undefined): 'jsonl' | 'csv' {
  if (format !== undefined) return format;
  return output !== undefined && /\.csv$/i.test(output) ? 'csv' : 'jsonl';
}

export function parseStatus(value: string): RecordStatus {
  if (!(RECORD_STATUSES as readonly string[]).includes(value)) {
    throw new CliError(`--status must be one of ${RECORD_STATUSES.join(', ')}`, 2);
  }
  return value as RecordStatus;
}

/** `rescreen results`: to stdout, or atomically to `--output` (a reader never sees half a file). */
export async function results(runtime: Runtime, batch: string, options: ResultsOptions): Promise<number> {
  if (options.attempts === true) {
    const attempts = batchAttempts(runtime, batch);
    return writeRows(attempts, { format: options.format, columns: ATTEMPT_CSV_COLUMNS, csv: (a: AttemptRow) => attemptCsvRow(a) }, options.output);
  }
  const records = await batchRecords(runtime, batch, options.status !== undefined ? { status: options.status } : {});
  const fields = runtime.checks.recordFields;
  return writeRows(records, { format: options.format, columns: csvColumns(fields), csv: (r) => csvRow(r, fields) }, options.output);
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
