/** Record checks and encoding shared by every backend. */
import { RECORD_STATUSES, STOPPED_BY, type ResultRecord, type StoppedBy } from '../checks/types.js';
import type { FailureCount } from './types.js';

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

/** Prefix of the failure counters every backend keeps next to `status:<s>` and `verdict:<v>`. */
export const FAILURE_COUNTER_PREFIX = 'failed:';

/**
 * What a record adds to the batch's failure counts: `<stoppedBy>:<code>` (stoppedBy `''` when none)
 * for a `failed` record with an error, else `''` (nothing counted). A stoppedBy never holds a `:`.
 */
export function failureKey(record: Pick<ResultRecord, 'status' | 'error' | 'stoppedBy'>): string {
  if (record.status !== 'failed' || record.error === null) return '';
  return `${record.stoppedBy ?? ''}:${String(record.error.code)}`;
}

/** Moves a failure counter in memory (the memory store's form of the backends' `failed:<key>` counters). */
export function bumpFailure(counts: Map<string, number>, failure: string, by: number): void {
  if (failure === '') return;
  const name = FAILURE_COUNTER_PREFIX + failure;
  counts.set(name, (counts.get(name) ?? 0) + by);
}

/**
 * The summary's `failures` from a backend's counters (`failed:<key>` → count, other names ignored):
 * those above 0, most first; `{}` when there are none (the summary leaves the field out).
 */
export function failuresOf(counters: Iterable<readonly [string, number]>): { failures?: FailureCount[] } {
  const out: FailureCount[] = [];
  for (const [name, count] of counters) {
    if (!name.startsWith(FAILURE_COUNTER_PREFIX) || !(count > 0)) continue;
    const key = name.slice(FAILURE_COUNTER_PREFIX.length);
    const cut = key.indexOf(':');
    if (cut < 0) continue;
    const stoppedBy = key.slice(0, cut);
    out.push({ code: key.slice(cut + 1), stoppedBy: (STOPPED_BY as readonly string[]).includes(stoppedBy) ? (stoppedBy as StoppedBy) : null, count });
  }
  out.sort((a, b) => b.count - a.count || cmp(a.code, b.code) || cmp(a.stoppedBy ?? '', b.stoppedBy ?? ''));
  return out.length > 0 ? { failures: out } : {};
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
