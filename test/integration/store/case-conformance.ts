/**
 * The case store conformance suite: the contract of src/store/cases.ts, run once for every backend
 * (Redis and PostgreSQL). A backend's test file calls `describeCaseStore(name, makeBackend)`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { caseIdOf, ERASED_SUBJECT, type CaseLine, type CaseOpening, type CaseReason, type CaseStore, type ReviewCase } from '../../../src/store/cases.js';

export interface CaseBackend {
  /** A handle on this backend's data; handles share it, as processes share one database. */
  open(): CaseStore;
  close(): Promise<void>;
  /** The store's own clock, ms (Redis TIME, PostgreSQL now()): leases are measured on it, not on this process's. */
  now(): Promise<number>;
}

export function caseLine(line: number, over: Partial<CaseLine> = {}): CaseLine {
  return {
    line,
    check: 'ooto-deepfake',
    status: 'completed',
    verdict: 'deepfake',
    score: 0.12,
    transactionId: `tx-${line}`,
    kind: 'worse',
    label: 'genuine → deepfake',
    mediaSha256: 'ab'.repeat(32),
    code: null,
    baseline: { source: 'record', batch: 'night-1', line, verdict: 'genuine', score: 0.93, at: '2024-05-01T10:00:00.000Z', transactionId: `tx0-${line}` },
    reasons: ['worse'],
    ...over,
  };
}

export function opening(batch: string, subject: string, reasons: CaseReason[] = ['worse'], lines: CaseLine[] = [caseLine(1)]): CaseOpening {
  return { batch, subject, reasons, lines };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

const ids = (cases: readonly ReviewCase[]) => cases.map((c) => c.subject);

export function describeCaseStore(name: string, makeBackend: () => CaseBackend | Promise<CaseBackend>): void {
  describe(`${name} (case store contract)`, () => {
    let backend: CaseBackend;
    let store: CaseStore;

    beforeEach(async () => {
      backend = await makeBackend();
      store = backend.open();
    });

    afterEach(async () => {
      await backend.close();
    });

    it('opens one case per (batch, subject); opening again opens nothing and adds what it lacked', async () => {
      const opened = await store.openCases([opening('b1', 's1'), opening('b1', 's2', ['new-bad']), opening('b2', 's1')]);
      expect(ids(opened)).toEqual(['s1', 's2', 's1']);
      const first = opened[0]!;
      expect(first).toMatchObject({ id: caseIdOf('b1', 's1'), batch: 'b1', subject: 's1', reasons: ['worse'], state: 'open', claimedBy: null, decision: null, decisions: 0 });
      expect(first.lines).toEqual([caseLine(1)]);
      expect(Date.parse(first.openedAt)).not.toBeNaN();
      // The same again, with a new reason and a new line: nothing opens; the case gains both.
      const again = await store.openCases([opening('b1', 's1', ['shared', 'worse'], [caseLine(1, { label: 'changed' }), caseLine(7, { reasons: ['shared'] })])]);
      expect(again).toEqual([]);
      const merged = await store.getCase(first.id);
      expect(merged?.reasons).toEqual(['worse', 'shared']);
      expect(merged?.lines.map((l) => [l.line, l.label])).toEqual([
        [1, 'genuine → deepfake'],
        [7, 'genuine → deepfake'],
      ]);
      expect(merged?.openedAt).toBe(first.openedAt);
      // Two openings of one subject in one call are one case with both reasons.
      const twice = await store.openCases([opening('b3', 's9', ['worse']), opening('b3', 's9', ['refused-after-good'], [caseLine(2)])]);
      expect(twice).toHaveLength(1);
      expect(twice[0]!.reasons).toEqual(['worse', 'refused-after-good']);
      expect(twice[0]!.lines.map((l) => l.line)).toEqual([1, 2]);
      expect(await store.getCase('c0000000000000000')).toBeNull();
    });

    it('concurrent openings of the same cases open each exactly once', async () => {
      const handles = Array.from({ length: 4 }, () => backend.open());
      const batch = Array.from({ length: 30 }, (_, i) => opening('race', `s${i}`));
      const results = await Promise.all(handles.map((h) => h.openCases(batch)));
      expect(results.flat()).toHaveLength(30);
      expect(new Set(results.flat().map((c) => c.id)).size).toBe(30);
    });

    it('lists oldest first, by batch, state, reason and subject, a page at a time', async () => {
      await store.openCases([opening('b1', 'a'), opening('b1', 'b', ['new-bad']), opening('b2', 'c', ['shared']), opening('b2', 'a', ['worse', 'shared'])]);
      expect(ids((await store.listCases()).cases)).toEqual(['a', 'b', 'c', 'a']);
      expect(ids((await store.listCases({ batch: 'b2' })).cases)).toEqual(['c', 'a']);
      expect(ids((await store.listCases({ reason: 'shared' })).cases)).toEqual(['c', 'a']);
      expect((await store.listCases({ subject: 'a' })).cases.map((c) => c.batch)).toEqual(['b1', 'b2']);
      const p1 = await store.listCases({ limit: 3 });
      expect(ids(p1.cases)).toEqual(['a', 'b', 'c']);
      expect(p1.next).not.toBeNull();
      const p2 = await store.listCases({ limit: 3, after: p1.next! });
      expect(ids(p2.cases)).toEqual(['a']);
      expect(p2.next).toBeNull();
      const claimed = await store.claimNext('ann', 60_000);
      expect(claimed?.subject).toBe('a');
      expect(ids((await store.listCases({ state: 'claimed' })).cases)).toEqual(['a']);
      expect(ids((await store.listCases({ state: 'open' })).cases)).toEqual(['b', 'c', 'a']);
      await store.decide(claimed!.id, { decision: 'cleared', note: '', reviewer: 'ann' });
      expect(ids((await store.listCases({ state: 'decided' })).cases)).toEqual(['a']);
      expect(ids((await store.listCases({ state: 'open', batch: 'b1' })).cases)).toEqual(['b']);
      expect(await store.countCases()).toEqual({ open: 3, claimed: 0, decided: 1 });
      expect(await store.countCases({ batch: 'b1' })).toEqual({ open: 1, claimed: 0, decided: 1 });
    });

    it('next hands out the oldest claimable case, never one twice to concurrent callers', async () => {
      await store.openCases(Array.from({ length: 25 }, (_, i) => opening('q', `s${String(i).padStart(2, '0')}`)));
      const handles = Array.from({ length: 3 }, () => backend.open());
      const got = await Promise.all(Array.from({ length: 30 }, (_, i) => handles[i % 3]!.claimNext(`r${i % 3}`, 60_000)));
      const claimed = got.filter((c): c is ReviewCase => c !== null);
      expect(claimed).toHaveLength(25);
      expect(new Set(claimed.map((c) => c.id)).size).toBe(25);
      const now = await backend.now();
      for (const c of claimed) {
        expect(c.state).toBe('claimed');
        expect(c.claimedBy).toMatch(/^r[012]$/);
        expect(Date.parse(c.leaseUntil!)).toBeGreaterThan(now + 30_000);
      }
      expect(await store.claimNext('r9', 60_000)).toBeNull();
    });

    it('a lapsed claim returns to the queue; a live one is only its holder\'s to decide or release', async () => {
      await store.openCases([opening('l', 's1'), opening('l', 's2')]);
      const c1 = await store.claimNext('ann', 1_500);
      expect(c1?.subject).toBe('s1');
      expect(await store.decide(c1!.id, { decision: 'cleared', note: '', reviewer: 'bob' })).toMatchObject({ refused: 'claimed', by: 'ann' });
      expect(await store.release(c1!.id, 'bob')).toBe(false);
      const c2 = await store.claimNext('bob', 60_000);
      expect(c2?.subject).toBe('s2');
      await sleep(1_800);
      expect((await store.getCase(c1!.id))).toMatchObject({ state: 'open', claimedBy: null, leaseUntil: null });
      const again = await store.claimNext('carl', 60_000);
      expect(again).toMatchObject({ id: c1!.id, claimedBy: 'carl' });
      expect(await store.release(again!.id, 'carl')).toBe(true);
      expect((await store.getCase(c1!.id))?.state).toBe('open');
      expect(await store.claimNext('dana', 60_000, { batch: 'other' })).toBeNull();
      expect((await store.claimNext('dana', 60_000, { batch: 'l' }))?.id).toBe(c1!.id);
    });

    it('decisions append: a later one supersedes, the earlier stays; the case leaves the queue', async () => {
      const [c] = await store.openCases([opening('d', 's1')]);
      expect(await store.decide('c0000000000000000', { decision: 'cleared', note: '', reviewer: 'x' })).toEqual({ refused: 'not-found' });
      const first = await store.decide(c!.id, { decision: 'escalate', note: 'needs a second look', reviewer: 'ann' });
      if ('refused' in first) throw new Error('refused');
      expect(first.decision).toMatchObject({ id: `${c!.id}#1`, caseId: c!.id, seq: 1, batch: 'd', subject: 's1', decision: 'escalate', note: 'needs a second look', reviewer: 'ann' });
      expect(first.case).toMatchObject({ state: 'decided', decision: 'escalate', decidedBy: 'ann', decisions: 1, claimedBy: null });
      const second = await store.decide(c!.id, { decision: 'confirmed-fraud', note: 'same face as s7', reviewer: 'bob' });
      if ('refused' in second) throw new Error('refused');
      expect(second.case).toMatchObject({ decision: 'confirmed-fraud', decidedBy: 'bob', decisions: 2 });
      const all = await store.decisionsOf(c!.id);
      expect(all.map((d) => [d.seq, d.decision, d.reviewer])).toEqual([
        [1, 'escalate', 'ann'],
        [2, 'confirmed-fraud', 'bob'],
      ]);
      expect(await store.claimNext('carl', 60_000)).toBeNull();
      expect((await collect(store.streamDecisions('d'))).map((d) => d.id)).toEqual([`${c!.id}#1`, `${c!.id}#2`]);
      expect(await collect(store.streamDecisions('none'))).toEqual([]);
    });

    it('streams a batch\'s cases and decisions; a subject\'s cases; erasure removes them, takes the subject out of other cases\' sharedWith and leaves a tombstone', async () => {
      const shared = caseLine(2, { kind: 'unchanged', label: 'shared media', reasons: ['shared'], sharedWith: ['gone', 'third'] });
      await store.openCases([opening('e1', 'gone'), opening('e1', 'kept', ['worse', 'shared'], [caseLine(1), shared]), opening('e2', 'gone', ['new-bad'])]);
      expect((await collect(store.streamCases('e1'))).map((c) => c.subject)).toEqual(['gone', 'kept']);
      expect((await collect(store.streamCases())).length).toBe(3);
      const mine = await store.casesOfSubject('gone');
      expect(mine.map((c) => c.batch)).toEqual(['e1', 'e2']);
      await store.decide(mine[0]!.id, { decision: 'cleared', note: '', reviewer: 'ann' });
      await store.decide(mine[0]!.id, { decision: 'reverify', note: 'blurry', reviewer: 'ann' });
      const at = '2026-01-01T00:00:00.000Z';
      expect(await store.eraseSubject('gone', { at, records: 3, attempts: 4 })).toEqual({ at, records: 3, attempts: 4, cases: 2, decisions: 2 });
      expect(await store.casesOfSubject('gone')).toEqual([]);
      expect(await store.decisionsOf(mine[0]!.id)).toEqual([]);
      const left = await collect(store.streamCases());
      expect(left.map((c) => c.subject)).toEqual(['kept']);
      // The other case keeps its lines, and that the media was shared, but not with whom.
      expect(left[0]!.lines.map((l) => [l.line, l.sharedWith])).toEqual([
        [1, undefined],
        [2, ['third', ERASED_SUBJECT]],
      ]);
      expect(JSON.stringify(left)).not.toContain('"gone"');
      const second = '2026-01-02T00:00:00.000Z';
      expect(await store.eraseSubject('nobody', { at: second, records: 0, attempts: 0 })).toEqual({ at: second, records: 0, attempts: 0, cases: 0, decisions: 0 });
      expect(await store.tombstones()).toEqual([
        { at: second, records: 0, attempts: 0, cases: 0, decisions: 0 },
        { at, records: 3, attempts: 4, cases: 2, decisions: 2 },
      ]);
      expect(await store.tombstones(1)).toHaveLength(1);
    });
  });
}
