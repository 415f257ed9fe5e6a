/**
 * The ring store conformance suite: the contract of src/store/rings.ts, run once for every backend
 * (Redis and PostgreSQL). A backend's test file calls `describeRingStore(name, makeBackend)`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bandsOf, mediaBands, ringIdOf, type LinkKind, type Ring, type RingLink, type RingMedia, type RingStore, type RingTemplate } from '../../../src/store/rings.js';

export interface RingBackend {
  /** A handle on this backend's data; handles share it, as processes share one database. */
  open(): RingStore;
  close(): Promise<void>;
}

export function link(kind: LinkKind, a: string, b: string, at: string, strength = kind === 'template' ? 0.9 : 0): RingLink {
  const [x, y] = a < b ? [a, b] : [b, a];
  return { kind, a: x, b: y, strength, aRef: { batch: 'n1', line: 1 }, bRef: { batch: 'n1', line: 2 }, at };
}

export function medium(batch: string, line: number, subject: string, sha: string, phash?: string): RingMedia {
  const hashes = phash === undefined ? {} : { phash, dhash: '0f0f0f0f0f0f0f0f', cphash: phash, cdhash: '0f0f0f0f0f0f0f0f' };
  return { batch, line, index: 0, subject, sha256: sha.repeat(64 / sha.length), ...hashes, at: '2026-01-01T00:00:00.000Z' };
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

const T1 = '2026-01-01T01:00:00.000Z';
const T2 = '2026-01-02T01:00:00.000Z';
const T3 = '2026-01-03T01:00:00.000Z';

export function describeRingStore(name: string, makeBackend: () => RingBackend | Promise<RingBackend>): void {
  describe(`${name} (ring store contract)`, () => {
    let backend: RingBackend;
    let store: RingStore;

    beforeEach(async () => {
      backend = await makeBackend();
      store = backend.open();
    });

    afterEach(async () => {
      await backend.close();
    });

    it('keeps entries once and finds them by sha256, by a shared band and by template id only', async () => {
      const a = medium('n1', 1, 's1', 'a', '0123456789abcdef');
      const b = medium('n1', 2, 's2', 'b', 'fedcba9876543210');
      const noHash = medium('n1', 3, 's3', 'c');
      const tpl: RingTemplate = { batch: 'n1', line: 4, templateId: 'T-1', subject: 's4', role: 'matched', similarity: 0.93, at: T1 };
      await store.addEntries([a, b, noHash], [tpl]);
      await store.addEntries([a, b, noHash], [tpl]);
      const bySha = await store.candidates({ sha256: [a.sha256, noHash.sha256], bands: [], templateIds: [] });
      expect(bySha.media.map((m) => m.subject).sort()).toEqual(['s1', 's3']);
      expect(bySha.media.find((m) => m.subject === 's1')).toEqual(a);
      // One band of a's key (and none of b's) finds a alone.
      const band = bandsOf('0123456789abcdef', '0f0f0f0f0f0f0f0f')[3]!;
      expect(mediaBands(b).some(([x, v]) => x === band[0] && v === band[1])).toBe(false);
      const byBand = await store.candidates({ sha256: [], bands: [band], templateIds: [] });
      expect(byBand.media.map((m) => m.subject)).toEqual(['s1']);
      const byTpl = await store.candidates({ sha256: [], bands: [], templateIds: ['T-1', 'T-2'] });
      expect(byTpl).toEqual({ media: [], templates: [tpl] });
      expect(await store.candidates({ sha256: ['d'.repeat(64)], bands: [[0, 1]], templateIds: ['nope'] })).toEqual({ media: [], templates: [] });
    });

    it('links make rings: a new pair starts one with the id of its link, a partner joins, a ring keeps its id as it grows', async () => {
      const first = link('sha256', 's1', 's2', T1);
      await store.addLinks([first]);
      const id = ringIdOf(first);
      expect(await store.ringsOf(['s1', 's2', 's9'])).toEqual(new Map([['s1', id], ['s2', id]]));
      await store.addLinks([link('phash', 's2', 's3', T2, 4)]);
      const ring = await store.getRing(id);
      expect(ring).toMatchObject({ id, subjects: ['s1', 's2', 's3'], firstSeen: T1, lastSeen: T2 });
      expect(ring!.links.map((l) => [l.kind, l.a, l.b, l.strength])).toEqual([['sha256', 's1', 's2', 0], ['phash', 's2', 's3', 4]]);
      // The same link again: kept once, the ring's lastSeen moves.
      await store.addLinks([{ ...first, at: T3 }]);
      const again = await store.getRing(id);
      expect(again!.links).toHaveLength(2);
      expect(again!.links[0]!.at).toBe(T1);
      expect(again!.lastSeen).toBe(T3);
      expect(await store.getRing('r0000000000000000')).toBeNull();
    });

    it('two rings joined keep the older id, whatever the order of the link', async () => {
      const old = link('template', 'x1', 'x2', T1);
      const young = link('sha256', 'y1', 'y2', T2);
      await store.addLinks([young]);
      await store.addLinks([old]);
      await store.addLinks([link('phash', 'y2', 'x2', T3, 2)]);
      const rings: Ring[] = await collect(store.listRings());
      expect(rings.map((r) => r.id)).toEqual([ringIdOf(old)]);
      expect(rings[0]).toMatchObject({ subjects: ['x1', 'x2', 'y1', 'y2'], firstSeen: T1, lastSeen: T3 });
      expect(rings[0]!.links.map((l) => l.kind)).toEqual(['template', 'sha256', 'phash']);
      expect(await store.getRing(ringIdOf(young))).toBeNull();
      expect(new Set((await store.ringsOf(['x1', 'y1', 'y2'])).values())).toEqual(new Set([ringIdOf(old)]));
    });

    it('one call with many links applies them oldest first: the same rings as one call per link', async () => {
      await store.addLinks([link('sha256', 'c', 'd', T3), link('sha256', 'a', 'b', T1), link('phash', 'b', 'c', T2, 3), link('sha256', 'e', 'f', T2)]);
      const rings = await collect(store.listRings());
      expect(rings.map((r) => [r.id, r.subjects])).toEqual([
        [ringIdOf(link('sha256', 'a', 'b', T1)), ['a', 'b', 'c', 'd']],
        [ringIdOf(link('sha256', 'e', 'f', T2)), ['e', 'f']],
      ]);
    });

    it('eraseSubject removes what names the subject; a ring left with one subject goes, a larger one keeps its id', async () => {
      const tpl = (subject: string, line: number): RingTemplate => ({ batch: 'n1', line, templateId: 'T-9', subject, role: 'matched', similarity: 0.95, at: T1 });
      await store.addEntries([medium('n1', 1, 'gone', 'a', '0123456789abcdef'), medium('n1', 2, 'kept', 'b')], [tpl('gone', 3), tpl('kept', 4)]);
      const pair = link('sha256', 'gone', 'lone', T1);
      const trio = link('sha256', 'm1', 'm2', T1);
      await store.addLinks([pair, trio, link('phash', 'm2', 'gone2', T2, 3)]);
      await store.addLinks([link('template', 'm1', 'gone2', T2)]);

      expect(await store.eraseSubject('gone')).toEqual({ entries: 2, links: 1 });
      expect(await store.candidates({ sha256: ['a'.repeat(64), 'b'.repeat(64)], bands: mediaBands(medium('n1', 1, 'x', 'a', '0123456789abcdef')), templateIds: ['T-9'] })).toEqual({
        media: [medium('n1', 2, 'kept', 'b')],
        templates: [tpl('kept', 4)],
      });
      // The pair's ring is left with one subject: gone, and so is that subject's membership.
      expect(await store.getRing(ringIdOf(pair))).toBeNull();
      expect(await store.ringsOf(['gone', 'lone'])).toEqual(new Map());

      expect(await store.eraseSubject('gone2')).toEqual({ entries: 0, links: 2 });
      const ring = await store.getRing(ringIdOf(trio));
      expect(ring).toMatchObject({ subjects: ['m1', 'm2'] });
      expect(ring!.links.map((l) => [l.a, l.b])).toEqual([['m1', 'm2']]);
      expect(JSON.stringify(await collect(store.listRings()))).not.toMatch(/gone/);
      expect(await store.eraseSubject('nobody')).toEqual({ entries: 0, links: 0 });
    });

    it('concurrent addLinks from two handles leave one ring holding every subject', async () => {
      const other = backend.open();
      const left = Array.from({ length: 20 }, (_, i) => link('sha256', `p${i}`, `p${i + 1}`, T1));
      const right = Array.from({ length: 20 }, (_, i) => link('phash', `q${i}`, `q${i + 1}`, T2, 1));
      await Promise.all([store.addLinks(left), other.addLinks(right), store.addLinks([link('template', 'p20', 'q20', T3)])]);
      const rings = await collect(store.listRings());
      expect(rings).toHaveLength(1);
      expect(rings[0]!.subjects).toHaveLength(42);
      expect(rings[0]!.links).toHaveLength(41);
      // The oldest component's id: one the T1 chain started (whichever call ran first).
      expect(left.map((l) => ringIdOf(l))).toContain(rings[0]!.id);
      expect(rings[0]!.firstSeen).toBe(T1);
      expect(rings[0]!.lastSeen).toBe(T3);
    });
  });
}
