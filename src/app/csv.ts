/**
 * The flat CSV form of a record and of an attempt-log row, shared by every export (CLI `results
 * --format csv`, the HTTP API's results). Every text cell is made safe to open in a spreadsheet
 * ({@link csvSafe}).
 */
import type { ResultRecord } from '../checks/types.js';
import type { AttemptRow } from '../store/types.js';

/**
 * OWASP's CSV-injection rule: a text cell starting with `=`, `+`, `-`, `@`, tab or CR is read as a
 * formula by Excel, LibreOffice and Sheets, so it gets a leading `'` (shown as text, the `'` hidden).
 * Numeric columns (line, score, attempts, HTTP status, duration) are written as numbers and never
 * escaped, so a negative number stays a number; a text cell that merely looks like one (a subject id
 * `-42`) is escaped, as OWASP says: it is text, and a spreadsheet shows it as such.
 */
export function csvSafe(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

function text(value: string | null | undefined): string | null {
  return value === null || value === undefined ? null : csvSafe(value);
}

/** The columns every record has, in order; the checks' own record fields go after `score`. */
const COMMON_COLUMNS = ['batch', 'line', 'subject', 'ref', 'frames', 'check', 'status', 'transactionId', 'verdict', 'score'] as const;
const TRAILING_COLUMNS = ['errorCode', 'errorMessage', 'stoppedBy', 'attempts', 'finishedAt', 'refHadQuery', 'mediaSha256', 'mediaBytes', 'mediaType'] as const;

/**
 * The record CSV's columns: the common ones, with each field the checks add to their records
 * (`CheckRegistry.recordFields`; the built-in checks: `templateId`) after `score`.
 */
export function csvColumns(checkFields: readonly string[]): string[] {
  return [...COMMON_COLUMNS, ...checkFields, ...TRAILING_COLUMNS];
}

export type CsvRow = Record<string, string | number | null>;

/** A check field's cell: text made safe, numbers and booleans as they are, nothing as empty. */
function fieldCell(value: unknown): string | number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return value;
  return csvSafe(typeof value === 'string' ? value : JSON.stringify(value));
}

/** A record as a CSV row of {@link csvColumns} `(checkFields)`. */
export function csvRow(r: ResultRecord, checkFields: readonly string[]): CsvRow {
  const media = r.media ?? [];
  return {
    batch: text(r.batch),
    line: r.line,
    subject: text(r.subject),
    ref: text(r.ref),
    frames: r.frames ? csvSafe(r.frames.join('|')) : null,
    check: r.check,
    status: r.status,
    transactionId: text(r.transactionId),
    verdict: r.verdict,
    score: r.score,
    ...Object.fromEntries(checkFields.map((field) => [field, fieldCell(r[field])])),
    errorCode: r.error ? csvSafe(String(r.error.code)) : null,
    errorMessage: text(r.error?.message),
    stoppedBy: r.stoppedBy ?? null,
    attempts: r.attempts,
    finishedAt: r.finishedAt,
    refHadQuery: r.refHadQuery === true ? 'true' : null,
    // Frame sets: one value per frame, `|`-joined like `frames`.
    mediaSha256: media.length > 0 ? media.map((m) => m.sha256).join('|') : null,
    mediaBytes: media.length > 0 ? media.map((m) => m.bytes).join('|') : null,
    mediaType: media.length > 0 ? media.map((m) => m.type).join('|') : null,
  };
}

/** Columns of `results --attempts --format csv`. */
export const ATTEMPT_CSV_COLUMNS = [
  'batch',
  'line',
  'subject',
  'check',
  'vendor',
  'attempt',
  'transactionId',
  'httpStatus',
  'code',
  'durationMs',
  'at',
  'worker',
  'endpoint',
] as const;

export type AttemptCsvRow = Record<(typeof ATTEMPT_CSV_COLUMNS)[number], string | number | null>;

export function attemptCsvRow(a: AttemptRow): AttemptCsvRow {
  return {
    batch: text(a.batch),
    line: a.line,
    subject: text(a.subject),
    check: a.check,
    vendor: a.vendor,
    attempt: a.attempt,
    transactionId: text(a.transactionId),
    httpStatus: a.httpStatus,
    code: a.code === null ? null : csvSafe(String(a.code)),
    durationMs: a.durationMs,
    at: a.at,
    worker: text(a.worker),
    endpoint: a.endpoint === undefined || a.endpoint === null ? null : text(a.endpoint),
  };
}
