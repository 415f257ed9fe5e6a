/** Record checks and encoding shared by every backend. */
import { RECORD_STATUSES, type ResultRecord } from '../checks/types.js';

export function parseRecord(json: string): ResultRecord {
  return JSON.parse(json) as ResultRecord;
}

/** Programming errors only: the producer and processors build records from validated data. */
export function assertRecord(record: ResultRecord): void {
  if (!Number.isSafeInteger(record.line) || record.line < 1) {
    throw new TypeError(`record line must be a positive integer (got ${String(record.line)})`);
  }
  if (typeof record.batch !== 'string' || record.batch === '' || record.batch.includes('\n')) {
    throw new TypeError('record batch must be a non-empty string without newlines');
  }
  if (!RECORD_STATUSES.includes(record.status)) {
    throw new TypeError(`record status must be one of ${RECORD_STATUSES.join(', ')} (got ${String(record.status)})`);
  }
}
