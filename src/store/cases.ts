/**
 * The case store contract (issue 19: review cases). A case is what a re-screen's findings become
 * for a person to decide: one per (batch, subject), with every reason that opened it, the evidence
 * lines, a lease-based claim and an append-only list of decisions. Every backend (Redis in
 * ./redis-case-store.ts, PostgreSQL in ./postgres/pg-case-store.ts) implements {@link CaseStore}
 * with exactly these semantics and proves it with the conformance suite
 * (test/integration/store/case-conformance.ts, `describeCaseStore`).
 */
import { createHash } from 'node:crypto';
import type { Verdict } from '../checks/types.js';

/**
 * Why a case was opened. `worse`: a good verdict became the bad one; `new-bad`: a bad verdict with
 * no baseline; `score-drop`: the same verdict with a score drop over the batch's threshold;
 * `refused-after-good`: the baseline was good and the vendor now refuses the media (no face, …);
 * `shared`: the same media bytes under several subjects of the batch; `ring`: a ring of subjects
 * (opened by the rings code through `openCases`).
 */
export const CASE_REASONS = ['worse', 'new-bad', 'score-drop', 'refused-after-good', 'shared', 'ring'] as const;
export type CaseReason = (typeof CASE_REASONS)[number];

/** What a reviewer decided. */
export const DECISIONS = ['confirmed-fraud', 'cleared', 'reverify', 'escalate'] as const;
export type DecisionKind = (typeof DECISIONS)[number];
/** Decisions that need a note (the why must be written down). */
export const NOTE_REQUIRED: readonly DecisionKind[] = ['confirmed-fraud', 'escalate'];

/**
 * `open`: waiting for a reviewer (a claim whose lease ran out counts as open); `claimed`: a reviewer
 * holds it until `leaseUntil`; `decided`: it has at least one decision (a later one supersedes).
 */
export const CASE_STATES = ['open', 'claimed', 'decided'] as const;
export type CaseState = (typeof CASE_STATES)[number];

/** One screening of the case: a line of the batch next to its baseline. */
export interface CaseLine {
  readonly line: number;
  readonly check: string;
  readonly status: string;
  readonly verdict: Verdict | null;
  readonly score: number | null;
  readonly transactionId: string | null;
  /** The change kind (`worse`, `new`, `score-drop`, `no-verdict`, …) as `rescreen changes` classifies it. */
  readonly kind: string;
  /** `genuine → deepfake`, `new`, `score 0.91 → 0.62`, … */
  readonly label: string;
  readonly mediaSha256: string | null;
  /** The record's error code for a refusal (`5` no face, …); null otherwise. */
  readonly code: string | null;
  readonly baseline: {
    readonly source: 'record' | 'manifest';
    readonly batch: string | null;
    readonly line: number | null;
    readonly verdict: Verdict;
    readonly score: number | null;
    readonly at: string | null;
    readonly transactionId: string | null;
  } | null;
  /** The reasons this line gives. */
  readonly reasons: readonly CaseReason[];
  /** For `shared`: the other subjects of the batch screened with the same media (at most 10). */
  readonly sharedWith?: readonly string[];
}

/** What opens (or adds to) a case. */
export interface CaseOpening {
  readonly batch: string;
  readonly subject: string;
  readonly reasons: readonly CaseReason[];
  readonly lines: readonly CaseLine[];
}

export interface ReviewCase {
  /** `c` and 16 hex digits, from (batch, subject): see {@link caseIdOf}. */
  readonly id: string;
  readonly batch: string;
  readonly subject: string;
  /** In {@link CASE_REASONS} order. */
  readonly reasons: readonly CaseReason[];
  readonly lines: readonly CaseLine[];
  /** ISO 8601. */
  readonly openedAt: string;
  readonly state: CaseState;
  /** The reviewer holding a live claim; null when none (or it lapsed). */
  readonly claimedBy: string | null;
  /** ISO 8601 end of that claim's lease; null when none. */
  readonly leaseUntil: string | null;
  /** The latest decision's values; null until decided. */
  readonly decision: DecisionKind | null;
  readonly decidedBy: string | null;
  readonly decidedAt: string | null;
  /** Decisions so far. */
  readonly decisions: number;
}

/** One decision: append-only, never changed or removed (but by erasure of its subject). */
export interface Decision {
  /** `<case id>#<seq>`. */
  readonly id: string;
  readonly caseId: string;
  /** 1 for the first decision of the case, then 2, … */
  readonly seq: number;
  readonly batch: string;
  readonly subject: string;
  readonly decision: DecisionKind;
  readonly note: string;
  /** Who decided: `--reviewer` on the CLI, the token's name on the API (never a token). */
  readonly reviewer: string;
  /** ISO 8601. */
  readonly at: string;
}

export interface CaseQuery {
  readonly batch?: string;
  readonly state?: CaseState;
  readonly reason?: CaseReason;
  readonly subject?: string;
  /** Default {@link DEFAULT_CASE_PAGE}. */
  readonly limit?: number;
  /** The `next` cursor of the previous page. */
  readonly after?: string;
}

export interface CasePage {
  /** Oldest opened first. */
  readonly cases: ReviewCase[];
  /** The cursor of the next page; null on the last one. */
  readonly next: string | null;
}

export interface DecideInput {
  readonly decision: DecisionKind;
  readonly note: string;
  readonly reviewer: string;
}

/** Why {@link CaseStore.decide} refused. */
export type DecideRefusal = { readonly refused: 'not-found' } | { readonly refused: 'claimed'; readonly by: string; readonly leaseUntil: string };

/** A tombstone left by an erasure: when and how much, no personal data. */
export interface Tombstone {
  readonly at: string;
  readonly records: number;
  readonly attempts: number;
  readonly cases: number;
  readonly decisions: number;
}

/** What a tombstone says that the case store did not erase itself: when, and the records and attempt rows. */
export type ErasedElsewhere = Pick<Tombstone, 'at' | 'records' | 'attempts'>;

/** What an erased subject's id becomes in other cases' `sharedWith`. */
export const ERASED_SUBJECT = '(erased subject)';

/** `lines` with `subject` out of each `sharedWith` ({@link ERASED_SUBJECT} in its place, once); undefined when none named it. */
export function withoutSubject(lines: readonly CaseLine[], subject: string): CaseLine[] | undefined {
  let changed = false;
  const out = lines.map((l) => {
    if (l.sharedWith?.includes(subject) !== true) return l;
    changed = true;
    return { ...l, sharedWith: [...l.sharedWith.filter((s) => s !== subject && s !== ERASED_SUBJECT), ERASED_SUBJECT] };
  });
  return changed ? out : undefined;
}

export const DEFAULT_CASE_PAGE = 50;
export const MAX_CASE_PAGE = 1_000;
/** A page size as asked (default {@link DEFAULT_CASE_PAGE}), a whole number within 1..{@link MAX_CASE_PAGE}. */
export function casePageLimit(limit: number | undefined): number {
  return Math.max(1, Math.min(MAX_CASE_PAGE, Math.floor(limit ?? DEFAULT_CASE_PAGE)));
}
/** Default claim lease of `review next`: 15 minutes. */
export const DEFAULT_LEASE_MS = 15 * 60_000;

/**
 * The case store.
 *
 * - **One case per (batch, subject)**, id {@link caseIdOf}. `openCases` opens the ones that do not
 *   exist and returns only those; for one that exists it adds reasons and lines it lacks (a line by
 *   its number) and returns nothing for it: opening twice never opens twice.
 * - **The queue** is the cases not decided, oldest opened first. `claimNext` hands the first one that
 *   is open or whose claim lapsed to `reviewer` for `leaseMs` (the store's own clock), atomically: two
 *   callers never get the same case while its lease runs.
 * - **Decisions are append-only.** `decide` appends one (the latest supersedes) unless another
 *   reviewer's claim is live; it ends the claim. Nothing changes or removes a decision but
 *   `eraseSubject`.
 * - Lists are oldest opened first; `state: 'open'` includes lapsed claims.
 */
export interface CaseStore {
  openCases(openings: readonly CaseOpening[]): Promise<ReviewCase[]>;
  getCase(id: string): Promise<ReviewCase | null>;
  listCases(query?: CaseQuery): Promise<CasePage>;
  /** Cases per state (lapsed claims count as open), optionally of one batch. */
  countCases(query?: { batch?: string }): Promise<Record<CaseState, number>>;
  claimNext(reviewer: string, leaseMs: number, query?: { batch?: string }): Promise<ReviewCase | null>;
  /** Gives a claimed case back to the queue (its holder only); false when `reviewer` held no live claim. */
  release(id: string, reviewer: string): Promise<boolean>;
  decide(id: string, input: DecideInput): Promise<{ case: ReviewCase; decision: Decision } | DecideRefusal>;
  /** The case's decisions, oldest first. */
  decisionsOf(id: string): Promise<Decision[]>;
  /** Every case (of one batch), oldest opened first, flat memory. */
  streamCases(batch?: string): AsyncIterable<ReviewCase>;
  /** Every decision (of one batch's cases), in case order then seq. */
  streamDecisions(batch?: string): AsyncIterable<Decision>;
  casesOfSubject(subject: string): Promise<ReviewCase[]>;
  /** Erases the subject's cases and decisions (the one path that removes a decision). */
  /**
   * Erases the subject's cases and their decisions, takes its id out of other cases' `sharedWith`
   * (the line keeps {@link ERASED_SUBJECT} in its place: the media was shared, with whom is gone),
   * and leaves the tombstone with these counts and `erased` — one transaction where the store has them.
   */
  eraseSubject(subject: string, erased: ErasedElsewhere): Promise<Tombstone>;
  /** Newest first. */
  tombstones(limit?: number): Promise<Tombstone[]>;
}

/** The case id of (batch, subject): `c` + 16 hex digits of sha256(batch NUL subject). The same on every store. */
export function caseIdOf(batch: string, subject: string): string {
  return `c${createHash('sha256').update(`${batch}\u0000${subject}`).digest('hex').slice(0, 16)}`;
}

/** Reasons in canonical order, without repeats. */
export function sortReasons(reasons: Iterable<CaseReason>): CaseReason[] {
  const set = new Set(reasons);
  return CASE_REASONS.filter((r) => set.has(r));
}

/** Lines of `add` whose numbers `lines` lacks, appended (a case's lines keep their first form). */
export function mergeLines(lines: readonly CaseLine[], add: readonly CaseLine[]): CaseLine[] {
  const have = new Set(lines.map((l) => l.line));
  return [...lines, ...add.filter((l) => !have.has(l.line))].sort((a, b) => a.line - b.line);
}

/** Openings of one (batch, subject) folded into one (a statement may touch a row once). */
export function mergeOpenings(openings: readonly CaseOpening[]): CaseOpening[] {
  const byId = new Map<string, CaseOpening>();
  for (const o of openings) {
    const id = caseIdOf(o.batch, o.subject);
    const had = byId.get(id);
    byId.set(id, had === undefined ? o : { ...had, reasons: sortReasons([...had.reasons, ...o.reasons]), lines: mergeLines(had.lines, o.lines) });
  }
  return [...byId.values()];
}
