/**
 * Opening review cases from a batch's records: each line next to its baseline (src/history/changes.ts),
 * the batch's `--review` rules applied, one case per subject with every reason and line that opened
 * it. Idempotent: the case store opens a (batch, subject) once, so a re-scan after a retry or a
 * re-run adds only what is new and never opens a case twice.
 *
 * The rings code opens its cases through {@link ringOpening} and the same `openCases` path
 * (src/app/review.ts `openCases`), so its cases get the same webhooks and queue.
 */
import type { CheckRegistry } from '../checks/registry.js';
import type { ResultRecord } from '../checks/types.js';
import { batchChangesWithRecords, type Change } from '../history/changes.js';
import { sortReasons, type CaseLine, type CaseOpening, type CaseReason } from '../store/cases.js';
import type { ResultStore } from '../store/types.js';
import type { ReviewRules } from './rules.js';

/** Subjects named in a shared line's `sharedWith`. */
const SHARED_LISTED = 10;
/** Media followed for `shared` (past this many distinct files, new ones are not followed). */
const MAX_MEDIA_FOLLOWED = 1_000_000;

/** The reasons one line gives under `rules` (`shared` is the batch's, added by {@link findOpenings}). */
export function lineReasons(record: ResultRecord, change: Change, good: string, rules: ReviewRules): CaseReason[] {
  const out: CaseReason[] = [];
  if (rules.worse && change.kind === 'worse') out.push('worse');
  if (rules.newBad && change.kind === 'new' && change.verdict !== null && change.verdict !== good) out.push('new-bad');
  if (rules.scoreDrop !== null && change.kind === 'score-drop') out.push('score-drop');
  // The vendor refused media it was sent (no face, several faces, too small); a local refusal sent nothing.
  const vendorRefused = record.status === 'rejected' && record.media !== undefined && record.media.length > 0;
  if (rules.refusedAfterGood && change.kind === 'no-verdict' && vendorRefused && change.baseline?.verdict === good) out.push('refused-after-good');
  return out;
}

/** A case line from a change (and its record's refusal code). */
export function caseLine(record: ResultRecord, change: Change, reasons: readonly CaseReason[]): CaseLine {
  const b = change.baseline;
  return {
    line: change.line,
    check: change.check,
    status: record.status,
    verdict: change.verdict,
    score: change.score,
    transactionId: change.transactionId,
    kind: change.kind,
    label: change.label,
    mediaSha256: change.mediaSha256,
    code: record.status !== 'completed' && record.error !== null ? String(record.error.code) : null,
    baseline: b === null ? null : { source: b.source, batch: b.batch, line: b.line, verdict: b.verdict, score: b.score, at: b.at, transactionId: b.transactionId },
    reasons,
  };
}

/**
 * What `rules` find in the batch: one opening per subject, lines in line order. Reads the batch's
 * records once (and each subject's history, as `rescreen changes` does).
 */
export async function findOpenings(store: ResultStore, checks: CheckRegistry, batch: string, rules: ReviewRules): Promise<CaseOpening[]> {
  // score-drop is classified only when its rule is on (minDelta 0 turns it off).
  const changes = batchChangesWithRecords(store, checks, batch, { minDelta: rules.scoreDrop ?? 0 });
  const bySubject = new Map<string, Map<number, CaseLine>>();
  const add = (subject: string, line: CaseLine) => {
    let lines = bySubject.get(subject);
    if (lines === undefined) bySubject.set(subject, (lines = new Map<number, CaseLine>()));
    const had = lines.get(line.line);
    lines.set(line.line, had === undefined ? line : { ...had, reasons: sortReasons([...had.reasons, ...line.reasons]), ...(line.sharedWith ? { sharedWith: line.sharedWith } : {}) });
  };
  // sha256 → the subjects screened with it, and each one's first line (for `shared`).
  const media = new Map<string, Map<string, { record: ResultRecord; change: Change }>>();
  for await (const { record, change } of changes) {
    if (change.subject === null) continue;
    const good = checks.verdictsOf(change.check)[0];
    const reasons = lineReasons(record, change, good, rules);
    if (reasons.length > 0) add(change.subject, caseLine(record, change, reasons));
    if (rules.shared && change.mediaSha256 !== null) {
      let subjects = media.get(change.mediaSha256);
      if (subjects === undefined && media.size < MAX_MEDIA_FOLLOWED) media.set(change.mediaSha256, (subjects = new Map<string, { record: ResultRecord; change: Change }>()));
      // Only the first line of a subject is kept: enough to show the media and its verdict.
      if (subjects !== undefined && !subjects.has(change.subject)) subjects.set(change.subject, { record: slim(record), change });
    }
  }
  for (const subjects of media.values()) {
    if (subjects.size < 2) continue;
    const names = [...subjects.keys()];
    for (const [subject, { record, change }] of subjects) {
      const others = names.filter((n) => n !== subject).slice(0, SHARED_LISTED);
      add(subject, { ...caseLine(record, change, ['shared']), sharedWith: others });
    }
  }
  return [...bySubject].map(([subject, lines]) => {
    const list = [...lines.values()].sort((a, b) => a.line - b.line);
    return { batch, subject, reasons: sortReasons(list.flatMap((l) => l.reasons)), lines: list };
  });
}

/** What a case line needs of a record (the vendor's answer is not kept in memory). */
function slim(record: ResultRecord): ResultRecord {
  return { ...record, response: null };
}

/**
 * An opening for a ring of subjects (the rings issue): call `openCases` (src/app/review.ts) with one
 * per subject of the ring; `lines` are the subject's lines of the batch that tie it to the ring.
 */
export function ringOpening(batch: string, subject: string, lines: readonly CaseLine[]): CaseOpening {
  // (Canary lines never reach a ring: the rings code reads customers' records, {@link isCanary} false.)
  return { batch, subject, reasons: ['ring'], lines: lines.map((l) => ({ ...l, reasons: sortReasons([...l.reasons, 'ring']) })) };
}
