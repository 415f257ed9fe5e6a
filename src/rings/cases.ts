/**
 * Review cases of rings: each subject of a batch that a link found by that batch ties to a ring gets
 * a case (src/review/open.ts `ringOpening`) whose lines are its records that made the links, labelled
 * with the ring and the link (`ring r… sha256 with s2`). Opening is idempotent (one case per
 * (batch, subject)), so a re-scan opens nothing twice.
 */
import type { ResultRecord } from '../checks/types.js';
import { ringOpening } from '../review/open.js';
import { sortReasons, type CaseLine, type CaseOpening } from '../store/cases.js';
import type { RingLink, RingStore } from '../store/rings.js';
import type { ResultStore } from '../store/types.js';

/** The case line of a record that made a ring link. */
function ringLine(record: ResultRecord, label: string): CaseLine {
  return {
    line: record.line,
    check: record.check ?? '',
    status: record.status,
    verdict: record.verdict,
    score: record.score,
    transactionId: record.transactionId,
    kind: 'ring',
    label,
    mediaSha256: record.media?.[0]?.sha256 ?? null,
    code: record.status !== 'completed' && record.error !== null ? String(record.error.code) : null,
    baseline: null,
    reasons: [],
  };
}

/** The openings for the links a batch found (one per subject of the batch in a ring). */
export async function ringOpenings(deps: { store: ResultStore; rings: RingStore }, batch: string, links: readonly RingLink[]): Promise<CaseOpening[]> {
  const ends = new Map<string, Map<number, string[]>>();
  const add = (subject: string, line: number, label: string) => {
    let lines = ends.get(subject);
    if (lines === undefined) ends.set(subject, (lines = new Map<number, string[]>()));
    lines.set(line, [...(lines.get(line) ?? []), label]);
  };
  const ringOf = await deps.rings.ringsOf([...new Set(links.flatMap((l) => [l.a, l.b]))]);
  for (const l of links) {
    const ring = ringOf.get(l.a) ?? ringOf.get(l.b) ?? '?';
    if (l.aRef.batch === batch) add(l.a, l.aRef.line, `ring ${ring}: ${l.kind} with ${l.b}`);
    if (l.bRef.batch === batch) add(l.b, l.bRef.line, `ring ${ring}: ${l.kind} with ${l.a}`);
  }
  const out: CaseOpening[] = [];
  for (const [subject, lines] of ends) {
    const caseLines: CaseLine[] = [];
    for (const [line, labels] of [...lines].sort((x, y) => x[0] - y[0])) {
      const record = await deps.store.get(batch, line);
      if (record !== null) caseLines.push(ringLine(record, labels.slice(0, 5).join('; ')));
    }
    if (caseLines.length > 0) out.push(ringOpening(batch, subject, caseLines));
  }
  return out;
}

/**
 * `openings` with the ring openings folded in: a line that already opens a case for another reason
 * gets `ring` added and the ring's label after its own (the store keeps a line's first form).
 */
export function withRingOpenings(openings: readonly CaseOpening[], rings: readonly CaseOpening[]): CaseOpening[] {
  const bySubject = new Map(openings.map((o) => [o.subject, o]));
  for (const r of rings) {
    const had = bySubject.get(r.subject);
    if (had === undefined) {
      bySubject.set(r.subject, r);
      continue;
    }
    const lines = new Map(had.lines.map((l) => [l.line, l]));
    for (const l of r.lines) {
      const old = lines.get(l.line);
      lines.set(l.line, old === undefined ? l : { ...old, reasons: sortReasons([...old.reasons, ...l.reasons]), label: `${old.label}; ${l.label}` });
    }
    bySubject.set(r.subject, { ...had, reasons: sortReasons([...had.reasons, ...r.reasons]), lines: [...lines.values()].sort((a, b) => a.line - b.line) });
  }
  return [...bySubject.values()];
}
