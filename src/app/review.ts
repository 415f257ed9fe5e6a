/**
 * Review cases as the CLI (`rescreen review …`), the HTTP API (`/api/cases…`) and the programmatic
 * API use them (README: Reviewing what changed): the queue, a lease-based claim, the evidence of a
 * case, append-only decisions, exports, and the hook the rings code opens its cases through.
 */
import type { ResultRecord } from '../checks/types.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../errors/errors.js';
import { findOpenings } from '../review/open.js';
import { reviewRulesOf } from '../review/queue.js';
import { describeReviewRules, parseReviewRules } from '../review/rules.js';
import { ringOpenings, withRingOpenings } from '../rings/cases.js';
import { linkBatch } from '../rings/link.js';
import type { Runtime } from '../runtime/runtime.js';
import {
  CASE_REASONS,
  CASE_STATES,
  DECISIONS,
  DEFAULT_LEASE_MS,
  MAX_CASE_PAGE,
  NOTE_REQUIRED,
  type CaseOpening,
  type CasePage,
  type CaseQuery,
  type CaseReason,
  type CaseState,
  type Decision,
  type DecisionKind,
  type ReviewCase,
} from '../store/cases.js';
import type { AttemptRow } from '../store/types.js';
import { batchSummary } from './batches.js';

export { CASE_REASONS, CASE_STATES, DECISIONS, DEFAULT_CASE_PAGE, DEFAULT_LEASE_MS, MAX_CASE_PAGE, NOTE_REQUIRED, caseIdOf } from '../store/cases.js';
export type { CaseLine, CaseOpening, CasePage, CaseQuery, CaseReason, CaseState, Decision, DecisionKind, ReviewCase, Tombstone } from '../store/cases.js';
export { DEFAULT_REVIEW_TEXT, DEFAULT_SCORE_DROP, REVIEW_HELP, describeReviewRules, parseReviewRules, type ReviewRules } from '../review/rules.js';
export { ringOpening } from '../review/open.js';

/** Longest note kept. */
export const MAX_NOTE_LENGTH = 4_000;
/** Longest lease `review next` gives: a day. */
export const MAX_LEASE_MS = 24 * 3600_000;

/** A reviewer's name: what decisions record (`--reviewer`, or the API token's name). @throws InvalidInputError */
export function checkReviewer(name: string | undefined): string {
  const value = (name ?? '').trim();
  if (value === '') throw new InvalidInputError('a reviewer must be named (--reviewer NAME)');
  if (value.length > 100 || !/^[\p{L}\p{N} ._@+-]+$/u.test(value)) {
    throw new InvalidInputError('--reviewer must be 1-100 letters, digits, spaces or . _ @ + -');
  }
  return value;
}

function checkState(state: string | undefined): CaseState | undefined {
  if (state === undefined) return undefined;
  if (!(CASE_STATES as readonly string[]).includes(state)) throw new InvalidInputError(`--state must be one of ${CASE_STATES.join(', ')} (got ${JSON.stringify(state)})`);
  return state as CaseState;
}

function checkReason(reason: string | undefined): CaseReason | undefined {
  if (reason === undefined) return undefined;
  if (!(CASE_REASONS as readonly string[]).includes(reason)) throw new InvalidInputError(`--reason must be one of ${CASE_REASONS.join(', ')} (got ${JSON.stringify(reason)})`);
  return reason as CaseReason;
}

/** What `review list` takes, as given (text from a flag or a query parameter). */
export interface CaseListArgs {
  readonly batch?: string | undefined;
  readonly state?: string | undefined;
  readonly reason?: string | undefined;
  readonly subject?: string | undefined;
  readonly limit?: number | undefined;
  readonly after?: string | undefined;
}

/** One page of cases, oldest opened first. @throws InvalidInputError for a bad state, reason or limit. */
export async function listCases(runtime: Runtime, args: CaseListArgs = {}): Promise<CasePage> {
  if (args.limit !== undefined && !(Number.isSafeInteger(args.limit) && args.limit >= 1 && args.limit <= MAX_CASE_PAGE)) {
    throw new InvalidInputError(`--limit must be a whole number from 1 to ${MAX_CASE_PAGE}`);
  }
  const state = checkState(args.state);
  const reason = checkReason(args.reason);
  const query: CaseQuery = {
    ...(args.batch !== undefined ? { batch: args.batch } : {}),
    ...(state !== undefined ? { state } : {}),
    ...(reason !== undefined ? { reason } : {}),
    ...(args.subject !== undefined ? { subject: args.subject } : {}),
    ...(args.limit !== undefined ? { limit: args.limit } : {}),
    ...(args.after !== undefined ? { after: args.after } : {}),
  };
  return runtime.cases.listCases(query);
}

/** Every case matching `args` (all pages), oldest first. */
export async function* allCases(runtime: Runtime, args: Omit<CaseListArgs, 'limit' | 'after'> = {}): AsyncGenerator<ReviewCase> {
  let after: string | undefined;
  for (;;) {
    const page = await listCases(runtime, { ...args, limit: MAX_CASE_PAGE, ...(after !== undefined ? { after } : {}) });
    yield* page.cases;
    if (page.next === null) return;
    after = page.next;
  }
}

/** Cases per state (lapsed claims count as open), of one batch or all. */
export function caseCounts(runtime: Runtime, batch?: string): Promise<Record<CaseState, number>> {
  return runtime.cases.countCases(batch !== undefined ? { batch } : {});
}

/** `review next`: claims the oldest open case for `reviewer` for `leaseMs`; null when the queue is empty. */
export async function nextCase(runtime: Runtime, args: { reviewer: string | undefined; leaseMs?: number; batch?: string }): Promise<ReviewCase | null> {
  const reviewer = checkReviewer(args.reviewer);
  const leaseMs = args.leaseMs ?? DEFAULT_LEASE_MS;
  if (!(Number.isSafeInteger(leaseMs) && leaseMs >= 1_000 && leaseMs <= MAX_LEASE_MS)) throw new InvalidInputError('--lease must be from 1s to 24h');
  return runtime.cases.claimNext(reviewer, leaseMs, args.batch !== undefined ? { batch: args.batch } : {});
}

/** @throws NotFoundError for an unknown case id. */
export async function getCase(runtime: Runtime, id: string): Promise<ReviewCase> {
  const found = /^c[0-9a-f]{16}$/.test(id) ? await runtime.cases.getCase(id) : null;
  if (!found) throw new NotFoundError(`no case ${JSON.stringify(id)}`);
  return found;
}

/** The evidence of one line of a case. */
export interface LineEvidence {
  readonly line: number;
  /** This screening's record (null when it was erased since). */
  readonly record: ResultRecord | null;
  /** The baseline's record, when the baseline is a record still stored. */
  readonly baseline: ResultRecord | null;
  /** The line's attempt-log rows, oldest first. */
  readonly attempts: readonly AttemptRow[];
}

/** What `review show` prints: the case, its lines' records, baselines and attempts, its decisions. */
export interface CaseEvidence {
  readonly case: ReviewCase;
  readonly lines: readonly LineEvidence[];
  readonly decisions: readonly Decision[];
}

/** @throws NotFoundError for an unknown case id. */
export async function showCase(runtime: Runtime, id: string): Promise<CaseEvidence> {
  const c = await getCase(runtime, id);
  const lines = await Promise.all(
    c.lines.map(async (l): Promise<LineEvidence> => {
      const b = l.baseline;
      const [record, baseline, attempts] = await Promise.all([
        runtime.store.get(c.batch, l.line),
        b !== null && b.batch !== null && b.line !== null ? runtime.store.get(b.batch, b.line) : Promise.resolve(null),
        runtime.store.attemptsOf(c.batch, l.line),
      ]);
      return { line: l.line, record: withoutResponse(record), baseline: withoutResponse(baseline), attempts };
    }),
  );
  return { case: c, lines, decisions: await runtime.cases.decisionsOf(id) };
}

/** The vendor's raw answer stays out of the evidence view (it is in `results`); everything else is shown. */
function withoutResponse(record: ResultRecord | null): ResultRecord | null {
  if (record === null) return null;
  const { response: _response, ...rest } = record;
  return rest as ResultRecord;
}

/** What `review decide` takes, as given. */
export interface DecideArgs {
  readonly decision: string | undefined;
  readonly note?: string | undefined;
  readonly reviewer: string | undefined;
}

/**
 * Appends a decision (the latest supersedes; the earlier stay) and queues its `case.decided` webhook.
 * @throws InvalidInputError for a decision outside the four, an empty note where one is needed, a bad reviewer;
 *   NotFoundError for an unknown case; ConflictError while another reviewer's claim on it is live.
 */
export async function decideCase(runtime: Runtime, id: string, args: DecideArgs): Promise<{ case: ReviewCase; decision: Decision }> {
  const decision = args.decision;
  if (decision === undefined || !(DECISIONS as readonly string[]).includes(decision)) {
    throw new InvalidInputError(`--as must be one of ${DECISIONS.join(', ')} (got ${JSON.stringify(decision ?? '')})`);
  }
  const note = (args.note ?? '').trim();
  if (note === '' && NOTE_REQUIRED.includes(decision as DecisionKind)) throw new InvalidInputError(`a ${decision} decision needs a --note saying why`);
  if (note.length > MAX_NOTE_LENGTH) throw new InvalidInputError(`--note is longer than ${MAX_NOTE_LENGTH} characters`);
  const reviewer = checkReviewer(args.reviewer);
  await getCase(runtime, id);
  const result = await runtime.cases.decide(id, { decision: decision as DecisionKind, note, reviewer });
  if ('refused' in result) {
    if (result.refused === 'not-found') throw new NotFoundError(`no case ${JSON.stringify(id)}`);
    throw new ConflictError(`case ${id} is claimed by ${result.by} until ${result.leaseUntil}: it is theirs to decide until then`);
  }
  await runtime.notifyCases('case.decided', [result]);
  return result;
}

/** Gives a claimed case back to the queue. @throws NotFoundError for an unknown case; ConflictError when `reviewer` holds no live claim on it. */
export async function releaseCase(runtime: Runtime, id: string, reviewer: string | undefined): Promise<ReviewCase> {
  const name = checkReviewer(reviewer);
  await getCase(runtime, id);
  if (!(await runtime.cases.release(id, name))) throw new ConflictError(`${name} holds no claim on case ${id}`);
  return getCase(runtime, id);
}

/**
 * Opens cases (and queues their `case.opened` webhooks); returns the ones this call opened. The hook
 * of other finders: the rings code calls it with `ringOpening(batch, subject, lines)` per subject.
 */
export async function openCases(runtime: Runtime, openings: readonly CaseOpening[]): Promise<ReviewCase[]> {
  const opened = await runtime.cases.openCases(openings);
  await runtime.notifyCases('case.opened', opened.map((c) => ({ case: c })));
  return opened;
}

/**
 * `review scan <batch>`: looks for the batch's cases now (as its finish does), with its own rules or
 * `rules` given; opens what is new. @throws NotFoundError for an unknown batch, InvalidInputError for bad rules.
 */
export async function scanBatchCases(runtime: Runtime, batch: string, rules?: string): Promise<{ rules: string; found: number; opened: ReviewCase[] }> {
  await batchSummary(runtime, batch);
  let applied = await reviewRulesOf(runtime.redis, runtime.config.prefix, batch);
  if (rules !== undefined) {
    const parsed = parseReviewRules(rules);
    if (!parsed.ok) throw new InvalidInputError(parsed.reason);
    applied = parsed.rules;
  }
  let found = await findOpenings(runtime.store, runtime.checks, batch, applied);
  // The batch is linked into the rings as its finish does; its ring cases open with the rest.
  const linked = await linkBatch({ store: runtime.store, rings: runtime.rings, matchThreshold: runtime.config.identifyMatchThreshold }, batch);
  if (applied.ring) found = withRingOpenings(found, await ringOpenings({ store: runtime.store, rings: runtime.rings }, batch, linked.links));
  return { rules: describeReviewRules(applied), found: found.length, opened: await openCases(runtime, found) };
}

/** Every decision (of one batch's cases), case by case. */
export function allDecisions(runtime: Runtime, batch?: string): AsyncIterable<Decision> {
  return runtime.cases.streamDecisions(batch);
}

/** The subject's cases, each with its decisions (for `subject <id>`). */
export async function subjectCases(runtime: Runtime, subject: string): Promise<{ case: ReviewCase; decisions: Decision[] }[]> {
  const cases = await runtime.cases.casesOfSubject(subject);
  return Promise.all(cases.map(async (c) => ({ case: c, decisions: await runtime.cases.decisionsOf(c.id) })));
}

/** The review columns of `review list --format csv` and `review export --format csv`. */
export const CASE_CSV_COLUMNS = ['id', 'batch', 'subject', 'reasons', 'state', 'openedAt', 'claimedBy', 'leaseUntil', 'decision', 'decidedBy', 'decidedAt', 'decisions', 'lines'] as const;
export const DECISION_CSV_COLUMNS = ['id', 'caseId', 'seq', 'batch', 'subject', 'decision', 'note', 'reviewer', 'at'] as const;

/** A case as one CSV row's values (reasons joined by `|`, lines as `line:label` joined by `|`). */
export function caseCsvValues(c: ReviewCase): (string | number | null)[] {
  return [c.id, c.batch, c.subject, c.reasons.join('|'), c.state, c.openedAt, c.claimedBy, c.leaseUntil, c.decision, c.decidedBy, c.decidedAt, c.decisions, c.lines.map((l) => `${l.line}:${l.label}`).join('|')];
}

export function decisionCsvValues(d: Decision): (string | number | null)[] {
  return [d.id, d.caseId, d.seq, d.batch, d.subject, d.decision, d.note, d.reviewer, d.at];
}
