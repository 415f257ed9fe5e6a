/** The flat CSV form of a record, shared by every export (CLI `results --format csv`, the API next). */
import type { ResultRecord } from '../checks/types.js';

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

export type CsvRow = Record<(typeof CSV_COLUMNS)[number], string | number | null>;

export function csvRow(r: ResultRecord): CsvRow {
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
