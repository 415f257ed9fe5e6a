import { createReadStream } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { parse, type CsvError } from 'csv-parse';
import { ManifestUnreadableError } from './errors.js';
import { clip, type RawLine } from './raw-line.js';

/** Columns a CSV manifest may have (header names match case-insensitively). */
export const CSV_COLUMNS = [
  'ref',
  'frames',
  'check',
  'subject',
  'options',
  'checkLiveness',
  'checkDeepfake',
  'previousVerdict',
  'previousScore',
  'previousAt',
  'templateId',
] as const;
/** Separator of the `frames` column. */
export const FRAME_SEPARATOR = '|';
/**
 * Largest CSV record, bytes. Bounds memory when a quote is never closed (the parser would otherwise
 * swallow the rest of the file into one field). 1000 frames of 4096 characters fit.
 */
export const MAX_CSV_RECORD_BYTES = 8 * 1024 * 1024;

const CANONICAL = new Map<string, string>(CSV_COLUMNS.map((c) => [c.toLowerCase(), c]));

/** Errors after which csv-parse does not resume: the rest of the file is not read. */
const FATAL_CODES = new Set<string>(['CSV_QUOTE_NOT_CLOSED', 'CSV_MAX_RECORD_SIZE']);

/**
 * Streams a CSV manifest (csv-parse's streaming API) with flat memory.
 *
 * - Row 1 is the header (not a record); known names match case-insensitively, empty names are ignored,
 *   a repeated name or a header naming none of {@link CSV_COLUMNS} makes the file unreadable.
 * - Empty and whitespace-only lines are skipped; cells are trimmed; a UTF-8 BOM is ignored.
 * - An empty cell means the field is absent. `frames` is split on `|`. `options` is a JSON object;
 *   `checkLiveness` / `checkDeepfake` (`true` / `false`) go into `options` and win over it.
 *   `previousVerdict` / `previousScore` / `previousAt` become `previous: {verdict, score, at}`.
 *   Other columns are passed through, so validation names them on the lines that fill them.
 * - Fewer cells than header columns is fine (missing = empty); more is an error for that line.
 * - `line` is the physical line where the record starts (a quoted cell may span lines).
 * - A malformed record (bad quoting) becomes an error for its line and reading resumes after it.
 *   When the parser cannot resume (a quote never closed, a record over 8 MiB), the error says so
 *   and reading stops there.
 */
export async function* readCsv(path: string): AsyncGenerator<RawLine> {
  let headerSize = 0;
  /** Errors reported by the parser, waiting for their turn in line order. */
  const skipped: RawLine[] = [];
  /** The error after which the parser does not resume, once reported. */
  let fatal: RawLine | undefined;

  const parser = parse({
    columns: (header: string[]) => {
      headerSize = header.length;
      return normaliseHeader(path, header);
    },
    info: true,
    raw: true,
    bom: true,
    trim: true,
    skip_empty_lines: true,
    relax_column_count: true,
    skip_records_with_error: true,
    max_record_size: MAX_CSV_RECORD_BYTES,
    on_skip: (error: CsvError | undefined, raw: string | undefined) => {
      if (fatal !== undefined || error === undefined) return undefined;
      const end = typeof error.lines === 'number' ? error.lines : 1;
      const line = Math.max(1, end - innerNewlines(raw ?? ''));
      if (FATAL_CODES.has(error.code)) {
        const why =
          error.code === 'CSV_QUOTE_NOT_CLOSED'
            ? `the record has a quote that is never closed, so lines ${line}–${end} could not be read`
            : `the record is longer than ${MAX_CSV_RECORD_BYTES} bytes (probably a quote that is never closed), so the rest of the file was not read`;
        fatal = { line, value: null, error: `CSV: ${why}` };
        skipped.push(fatal);
      } else {
        skipped.push({ line, value: null, error: `CSV: ${clip(error.message)}` });
      }
      return undefined;
    },
  });
  const input = createReadStream(path, { highWaterMark: 256 * 1024 });
  const newlines = new NewlineNormaliser();
  input.on('error', (error) => parser.destroy(error));
  input.pipe(newlines).pipe(parser);

  try {
    for await (const item of parser as AsyncIterable<unknown>) {
      const { record, info, raw } = item as ParsedItem;
      const line = Math.max(1, info.lines - innerNewlines(raw ?? ''));
      let fatalReported = false;
      for (let next = skipped[0]; next !== undefined && next.line < line; next = skipped[0]) {
        skipped.shift();
        yield next;
        if (next === fatal) fatalReported = true;
      }
      if (fatalReported) break;
      if (info.error?.code === 'CSV_RECORD_INCONSISTENT_COLUMNS' && info.index > headerSize) {
        yield { line, value: null, error: `CSV: the row has ${info.index} cells but the header has ${headerSize} columns` };
        continue;
      }
      yield rowToValue(line, record);
    }
    for (let next = skipped.shift(); next !== undefined; next = skipped.shift()) {
      yield next;
      if (next === fatal) break;
    }
  } finally {
    input.destroy();
    newlines.destroy();
    parser.destroy();
  }
}

interface ParsedItem {
  readonly record: Record<string, string | undefined>;
  readonly info: { readonly lines: number; readonly index: number; readonly error?: CsvError | undefined };
  readonly raw?: string;
}

/**
 * Newlines inside a raw record: not the blank lines csv-parse leaves in front of it (skipped empty
 * lines stay in its raw buffer), not the delimiter that ends it. Input newlines are `\n` only.
 */
export function innerNewlines(raw: string): number {
  const body = raw.replace(/^(?:[ \t]*\n)+/, '').replace(/\n$/, '');
  let count = 0;
  for (let i = body.indexOf('\n'); i >= 0; i = body.indexOf('\n', i + 1)) count++;
  return count;
}

/**
 * Turns `\r\n` and lone `\r` into `\n` before csv-parse sees the bytes: its line counter counts
 * a `\r\n` inside a quoted cell twice, which would put every later record on the wrong line.
 * Byte-level is safe in UTF-8 (CR and LF never occur inside a multi-byte character).
 */
export class NewlineNormaliser extends Transform {
  private pendingCr = false;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (!this.pendingCr && !chunk.includes(13)) {
      callback(null, chunk);
      return;
    }
    const out = Buffer.allocUnsafe(chunk.length + 1);
    let length = 0;
    let index = 0;
    if (this.pendingCr) {
      out[length++] = 10;
      this.pendingCr = false;
      if (chunk[0] === 10) index = 1;
    }
    for (; index < chunk.length; index++) {
      const byte = chunk[index]!;
      if (byte !== 13) {
        out[length++] = byte;
      } else if (index + 1 === chunk.length) {
        this.pendingCr = true;
      } else {
        out[length++] = 10;
        if (chunk[index + 1] === 10) index++;
      }
    }
    callback(null, out.subarray(0, length));
  }

  override _flush(callback: TransformCallback): void {
    callback(null, this.pendingCr ? Buffer.from([10]) : undefined);
  }
}

function normaliseHeader(path: string, header: string[]): (string | false)[] {
  const seen = new Set<string>();
  let known = 0;
  const names = header.map((cell) => {
    const trimmed = cell.replace(/^\uFEFF/, '').trim();
    if (trimmed === '') return false as const;
    const name = CANONICAL.get(trimmed.toLowerCase()) ?? trimmed;
    if (seen.has(name)) {
      throw new ManifestUnreadableError(path, `manifest ${path}: the CSV header repeats the column ${JSON.stringify(name)}`);
    }
    seen.add(name);
    if (CANONICAL.has(name.toLowerCase())) known++;
    return name;
  });
  if (known === 0) {
    throw new ManifestUnreadableError(
      path,
      `manifest ${path}: the first CSV row must be a header naming columns such as ${CSV_COLUMNS.join(', ')}`,
    );
  }
  return names;
}

/** Maps one CSV row to the JSONL shape of a manifest line. */
export function rowToValue(line: number, row: Readonly<Record<string, string | undefined>>): RawLine {
  const value: Record<string, unknown> = {};
  let options: Record<string, unknown> | undefined;
  let previous: Record<string, unknown> | undefined;
  for (const [name, cell] of Object.entries(row)) {
    if (cell === undefined || cell === '') continue;
    switch (name) {
      case 'frames':
        value.frames = cell.split(FRAME_SEPARATOR).map((f) => f.trim());
        break;
      case 'options': {
        let parsed: unknown;
        try {
          parsed = JSON.parse(cell);
        } catch {
          parsed = undefined;
        }
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
          return { line, value: null, error: 'the options column must hold a JSON object, e.g. {"checkLiveness":true}' };
        }
        options = { ...(parsed as Record<string, unknown>), ...options };
        break;
      }
      case 'checkLiveness':
      case 'checkDeepfake':
        options = { ...options, [name]: toFlag(cell) };
        break;
      case 'previousVerdict':
        previous = { ...previous, verdict: cell };
        break;
      case 'previousScore':
        // A number when it reads as one; else the text, for validation to name.
        previous = { ...previous, score: cell.trim() !== '' && Number.isFinite(Number(cell)) ? Number(cell) : cell };
        break;
      case 'previousAt':
        previous = { ...previous, at: cell };
        break;
      default:
        value[name] = cell;
    }
  }
  if (options !== undefined) value.options = options;
  if (previous !== undefined) value.previous = previous;
  return { line, value };
}

/** `true` / `false` (any case) become booleans; anything else stays a string for validation to name. */
function toFlag(cell: string): boolean | string {
  const lower = cell.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  return cell;
}
