/**
 * Writing a stream of rows (records, changes, history) as JSONL or CSV, to stdout or atomically to
 * a file, honouring back-pressure and a reader that goes away (`| head -1`).
 */
import { stringify } from 'csv-stringify';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describeWriteError } from '../app/index.js';
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
    throw new CliError(`cannot write ${output}: ${await describeWriteError(output, error)}`);
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

async function writeTo<T>(out: NodeJS.WritableStream, rows: AsyncIterable<T>, format: RowFormat<T>): Promise<number> {
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
  if (format.format === 'jsonl') {
    for await (const row of rows) {
      if (!out.write(`${JSON.stringify(row)}\n`)) await waitFor(out, 'drain');
      count += 1;
      if (count % GC_EVERY === 0) collectGarbage();
    }
    return count;
  }
  const csv = stringify({ header: true, columns: [...format.columns] });
  csv.on('data', (chunk: Buffer) => {
    if (!out.write(chunk)) csv.pause();
  });
  out.on('drain', () => csv.resume());
  const ended = waitFor(csv, 'end');
  ended.catch(() => undefined);
  for await (const row of rows) {
    if (!csv.write(format.csv(row))) await waitFor(csv, 'drain');
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
