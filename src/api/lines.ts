/**
 * Manifest lines given as an (async) iterable rather than a file: spooled, streaming and with flat
 * memory, to a JSONL file in a private temporary folder, which the producer then reads as it reads
 * any manifest (so every line, valid or not, ends as exactly one record, numbered from 1).
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One manifest line: a JSONL text line, or an object written as one (`JSON.stringify`). */
export type ManifestLine = string | Readonly<Record<string, unknown>>;

/** A spooled manifest: its path, and `remove()` for when the producer is done with it. */
export interface Spool {
  readonly path: string;
  remove(): Promise<void>;
}

/**
 * Writes the lines to `<tmp>/rescreen-lines-*\/<name>.jsonl`. A string containing a line break would
 * become several manifest lines (and shift every line number after it): its breaks are written as
 * spaces (whitespace to JSON), so it stays one line, valid or not, with its own line number.
 */
export async function spoolLines(lines: AsyncIterable<ManifestLine> | Iterable<ManifestLine>, name: string): Promise<Spool> {
  const dir = await mkdtemp(join(tmpdir(), 'rescreen-lines-'));
  const path = join(dir, `${name}.jsonl`);
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    const out = createWriteStream(path, { encoding: 'utf8' });
    const closed = once(out, 'close');
    try {
      for await (const line of lines) {
        const text = typeof line === 'string' ? line.replace(/\r\n|\r|\n/g, ' ') : JSON.stringify(line);
        if (!out.write(`${text}\n`)) await once(out, 'drain');
      }
    } finally {
      out.end();
      await closed;
    }
    return { path, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}
