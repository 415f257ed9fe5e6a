import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { clip, type RawLine } from './raw-line.js';

/**
 * Streams a JSONL manifest, one {@link RawLine} per non-blank line, with flat memory (node:readline
 * over a read stream; backpressure comes from the consumer's pace).
 *
 * - Line numbers count every physical line (`\n`, `\r\n` or a lone `\r` ends one), blank ones included.
 * - Blank and whitespace-only lines are skipped: they are not records and get no result record.
 * - A UTF-8 BOM at the start of the file is ignored.
 * - A line that is not a JSON object yields an `error` for that line; reading goes on.
 *
 * Stream errors (EISDIR, EACCES, I/O) are thrown as they are; `readManifest` wraps them.
 */
export async function* readJsonl(path: string): AsyncGenerator<RawLine> {
  const input = createReadStream(path, { encoding: 'utf8', highWaterMark: 256 * 1024 });
  const lines = createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const text of lines) {
      line++;
      const body = (line === 1 && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).trim();
      if (body === '') continue;
      yield parseJsonLine(line, body);
    }
  } finally {
    lines.close();
    input.destroy();
  }
}

/** Parses one non-blank JSONL line. */
export function parseJsonLine(line: number, body: string): RawLine {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { line, value: null, error: `the line is not valid JSON (${clip(detail)})` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    const got = parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : `a ${typeof parsed}`;
    return { line, value: null, error: `the line must be a JSON object, got ${got}` };
  }
  return { line, value: parsed as Record<string, unknown> };
}
