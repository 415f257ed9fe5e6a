/** Read-only commands: status, results, result. */
import { stringify } from 'csv-stringify';
import { once } from 'node:events';
import type { ResultRecord } from '../../checks/types.js';
import type { Runtime } from '../../runtime/runtime.js';
import { CliError } from '../cli-error.js';
import { formatSummary } from '../format.js';

export async function status(runtime: Runtime, batch: string): Promise<void> {
  const summary = await runtime.store.summary(batch);
  if (!summary) throw new CliError(`no batch ${JSON.stringify(batch)}`);
  const pending = {
    ooto: await unfinished(runtime, 'ooto'),
    glair: await unfinished(runtime, 'glair'),
  };
  process.stdout.write(`${formatSummary(summary, pending)}\n`);
}

async function unfinished(runtime: Runtime, vendor: 'ooto' | 'glair'): Promise<number> {
  const counts = await runtime.queues[vendor].getJobCounts('wait', 'active', 'delayed', 'prioritized', 'paused');
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

export const CSV_COLUMNS = [
  'batch',
  'line',
  'subject',
  'ref',
  'frames',
  'check',
  'status',
  'transactionId',
  'verdict',
  'score',
  'templateId',
  'errorCode',
  'errorMessage',
  'attempts',
  'finishedAt',
] as const;

function csvRow(r: ResultRecord): Record<(typeof CSV_COLUMNS)[number], string | number | null> {
  return {
    batch: r.batch,
    line: r.line,
    subject: r.subject,
    ref: r.ref ?? null,
    frames: r.frames ? r.frames.join('|') : null,
    check: r.check,
    status: r.status,
    transactionId: r.transactionId,
    verdict: r.verdict,
    score: r.score,
    templateId: r.templateId ?? null,
    errorCode: r.error ? String(r.error.code) : null,
    errorMessage: r.error?.message ?? null,
    attempts: r.attempts,
    finishedAt: r.finishedAt,
  };
}

/** Streams the batch's records to `out` in line order, as JSONL or CSV, honouring back-pressure. */
export async function results(
  runtime: Runtime,
  batch: string,
  format: 'jsonl' | 'csv',
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  const summary = await runtime.store.summary(batch);
  if (!summary) throw new CliError(`no batch ${JSON.stringify(batch)}`);
  let count = 0;
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  if (format === 'jsonl') {
    for await (const record of runtime.store.stream(batch)) {
      await write(`${JSON.stringify(record)}\n`);
      count += 1;
    }
    return count;
  }
  const csv = stringify({ header: true, columns: [...CSV_COLUMNS] });
  csv.on('data', (chunk: Buffer) => {
    if (!out.write(chunk)) csv.pause();
  });
  out.on('drain', () => csv.resume());
  const ended = once(csv, 'end');
  for await (const record of runtime.store.stream(batch)) {
    if (!csv.write(csvRow(record))) await once(csv, 'drain');
    count += 1;
  }
  csv.end();
  await ended;
  return count;
}

export async function result(runtime: Runtime, transactionId: string): Promise<void> {
  const record = await runtime.store.byTransactionId(transactionId);
  if (!record) throw new CliError(`no record with transaction id ${JSON.stringify(transactionId)}`);
  process.stdout.write(`${JSON.stringify(record, null, 2)}\n`);
}
