/** After a re-screen: a subject's history and a batch's verdict changes (README: After a re-screen). */
import type { CheckName } from '../checks/registry.js';
import type { ResultRecord } from '../checks/types.js';
import { InvalidInputError, NotFoundError } from '../errors/errors.js';
import {
  batchChanges,
  countChanges,
  DEFAULT_MIN_DELTA,
  isWorse,
  type Change,
  type ChangeCounts,
  type ChangeOptions,
} from '../history/changes.js';
import type { Runtime } from '../runtime/runtime.js';
import { keepChangeCounts } from '../history/change-counts.js';
import { isBatchFinished } from '../store/types.js';
import { batchSummary } from './batches.js';

export { CHANGE_KINDS, ChangeTally, DEFAULT_MIN_DELTA, describeChangeCounts, isWorse } from '../history/changes.js';
export type { Baseline, Change, ChangeCounts, ChangeKind } from '../history/changes.js';

/** Most records `subject` reads of one subject. */
export const SUBJECT_HISTORY_LIMIT = 10_000;

/**
 * Every record of a subject across batches, oldest first, optionally of one check.
 * @throws NotFoundError when the subject has no record.
 */
export async function subjectHistory(runtime: Runtime, subject: string, options: { check?: CheckName } = {}): Promise<ResultRecord[]> {
  const all = await runtime.store.bySubject(subject, SUBJECT_HISTORY_LIMIT);
  const records = options.check === undefined ? all : all.filter((r) => r.check === options.check);
  if (records.length === 0) {
    const which = options.check === undefined ? '' : ` for ${options.check}`;
    throw new NotFoundError(`no record of subject ${JSON.stringify(subject)}${which}`);
  }
  return records;
}

export interface ChangesQuery {
  /** Compare with this batch instead of each subject's latest earlier screening. */
  readonly against?: string;
  /** Score drop that counts (0–1, default {@link DEFAULT_MIN_DELTA}). */
  readonly minDelta?: number;
  /** Only worse verdicts and score drops. */
  readonly onlyWorse?: boolean;
}

/**
 * The batch's lines next to their previous screening, in line order.
 * @throws NotFoundError (before yielding) when the batch, or the `against` batch, does not exist.
 */
export async function batchChangeRows(runtime: Runtime, batch: string, query: ChangesQuery = {}): Promise<AsyncIterable<Change>> {
  const options = await changeOptions(runtime, batch, query);
  const rows = batchChanges(runtime.store, runtime.checks, batch, options);
  if (query.onlyWorse !== true) return rows;
  return (async function* () {
    for await (const change of rows) if (isWorse(change)) yield change;
  })();
}

/** Keeps counts a full default `changes` run made, so `status` shows them for a batch of any size. */
export async function keepBatchChangeCounts(runtime: Runtime, batch: string, counts: ChangeCounts): Promise<void> {
  const summary = await runtime.store.summary(batch);
  if (summary && isBatchFinished(summary)) await keepChangeCounts(runtime.redis, runtime.config.prefix, summary, counts);
}

/** Counts of the batch's changes. @throws NotFoundError as {@link batchChangeRows}. */
export async function batchChangeCounts(runtime: Runtime, batch: string, query: ChangesQuery = {}): Promise<ChangeCounts> {
  return countChanges(runtime.store, runtime.checks, batch, await changeOptions(runtime, batch, query));
}

async function changeOptions(runtime: Runtime, batch: string, query: ChangesQuery): Promise<ChangeOptions> {
  await batchSummary(runtime, batch);
  if (query.against !== undefined) {
    if (query.against === batch) throw new InvalidInputError('--against names the batch itself: name an earlier batch');
    await batchSummary(runtime, query.against);
  }
  const minDelta = query.minDelta ?? DEFAULT_MIN_DELTA;
  if (!(minDelta >= 0 && minDelta <= 1)) throw new InvalidInputError(`--min-delta must be between 0 and 1 (got ${minDelta})`);
  return { minDelta, ...(query.against !== undefined ? { against: query.against } : {}) };
}
