/**
 * Writing a stream of rows (records, changes, history) as JSONL or CSV, to stdout or atomically to
 * a file, honouring back-pressure and a reader that goes away (`| head -1`).
 */
import { stringify } from 'csv-stringify';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { describeFsError } from '../app/index.js';
import { RescreenError } from '../errors/errors.js';
import { CliError, ExitCode } from './cli-error.js';

/** How rows become text. */
export interface RowFormat<T> {
  readonly format: 'jsonl' | 'csv';
  /** CSV header, in order. */
  readonly columns: readonly string[];
  /** The CSV cells of a row (JSONL writes the row itself). */
  readonly csv: (row: T) => Record<string, unknown>;
}

/** Writes the rows to `output` atomically (a temporary file renamed when complete), or to stdout. Returns the row count. */
export async function writeRows<T>(rows: AsyncIterable<T>, format: RowFormat<T>, output?: string): Promise<number> {
  if (output === undefined) {
    try {
      return await writeTo(process.stdout, rows, format);
    } catch (error) {
      // The reader went away (`| head -1`): what it wanted, it has. End quietly, exit 0.
      if (isClosedPipe(error) || process.stdout.destroyed) throw new CliError('', ExitCode.OK);
      throw error;
    }
  }
  const temp = join(dirname(output), `.${basename(output)}.${process.pid}.${Date.now()}.tmp`);
  const out = createWriteStream(temp, { flags: 'wx' });
  try {
    await once(out, 'open');
    const count = await writeTo(out, rows, format);
    out.end();
    await once(out, 'finish');
    await new Promise<void>((resolve, reject) => out.close((err) => (err ? reject(err) : resolve())));
    await rename(temp, output);
    return count;
  } catch (error) {
    out.destroy();
    await rm(temp, { force: true });
    if (error instanceof CliError || error instanceof RescreenError) throw error;
    throw new CliError(`cannot write ${output}: ${describeFsError(error)}`);
  }
}

async function writeTo<T>(out: NodeJS.WritableStream, rows: AsyncIterable<T>, format: RowFormat<T>): Promise<number> {
  let count = 0;
  // Rejects once the output fails or is closed under us, so no wait below hangs on a dead stream.
  const gone = new Promise<never>((_, reject) => {
    out.once('error', reject);
    out.once('close', () => reject(Object.assign(new Error('output closed'), { code: 'EPIPE' })));
  });
  gone.catch(() => undefined);
  const wait = (event: Promise<unknown>) => Promise.race([event, gone]);
  if (format.format === 'jsonl') {
    for await (const row of rows) {
      if (!out.write(`${JSON.stringify(row)}\n`)) await wait(once(out, 'drain'));
      count += 1;
    }
    return count;
  }
  const csv = stringify({ header: true, columns: [...format.columns] });
  csv.on('data', (chunk: Buffer) => {
    if (!out.write(chunk)) csv.pause();
  });
  out.on('drain', () => csv.resume());
  const ended = once(csv, 'end');
  for await (const row of rows) {
    if (!csv.write(format.csv(row))) await wait(once(csv, 'drain'));
    count += 1;
  }
  csv.end();
  await wait(ended);
  return count;
}

/** A write to a pipe whose reader has gone (EPIPE), or to a stream already destroyed because of it. */
function isClosedPipe(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED';
}
