/**
 * Issue 20 acceptance: rings across batches, on both stores. Three batches: A and B screened with the
 * same bytes (sha256), then B with a second photo whose re-encoded copy is C's (phash), then C and D
 * identified as the one OOTO template (template). `rings --all` shows exactly that ring, 4 subjects
 * and 3 links of 3 kinds; E, screened beside them, is in no ring; a fourth batch adds F (A's bytes
 * again) and the ring keeps its id. The pictures are the generated faces of src/testing/faces.ts,
 * distinct by construction (the simulator's sample pictures are perceptually one face).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { enqueueBatch, getRing, listRings, ringsDot, subjectRings, type Ring } from '../../../src/app/index.js';
import type { Runtime } from '../../../src/runtime/runtime.js';
import { startWorkers } from '../../../src/runtime/runtime.js';
import { ringIdOf } from '../../../src/store/rings.js';
import { alter, faceJpeg } from '../../../src/testing/faces.js';
import { runCli } from '../../helpers/cli.js';
import { createHarness, eventually, STORE_KINDS, type Harness } from '../../helpers/pipeline.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A JPEG with a simulator directive in a COM segment right after SOI. */
function withDirective(jpeg: Buffer, directives: string): Buffer {
  const text = Buffer.from(`rescreen-sim:${directives};`, 'latin1');
  const head = Buffer.from([0xff, 0xfe, (text.length + 2) >> 8, (text.length + 2) & 0xff]);
  return Buffer.concat([jpeg.subarray(0, 2), head, text, jpeg.subarray(2)]);
}

/** Enqueues, works until the batch finished and its review scan (which links its rings) ran. */
async function night(runtime: Runtime, manifest: string, batch: string, review?: string): Promise<void> {
  const scans = async () => (await runtime.review.getJobCounts('completed')).completed ?? 0;
  const before = await scans();
  await enqueueBatch(runtime, { manifest, batch, ...(review !== undefined ? { review } : {}) });
  const workers = startWorkers(runtime);
  try {
    await eventually(() => runtime.store.summary(batch), (s) => s !== null && s.finishedAt !== null, 120_000);
    await eventually(scans, (n) => n > before, 120_000);
  } finally {
    await workers.close();
  }
}

async function all(runtime: Runtime, args: Parameters<typeof listRings>[1] = {}): Promise<Ring[]> {
  const out: Ring[] = [];
  for await (const r of listRings(runtime, args)) out.push(r);
  return out;
}

describe.each(STORE_KINDS)('fraud rings across batches (%s store)', (store) => {
  it('one sha256 pair, one near-duplicate pair and one shared template make one ring of 4 with 3 links of 3 kinds; its id stays as it grows', async () => {
    h = await createHarness(`rings-${store}`, {}, {}, { store });
    const runtime = await h.openRuntime();
    h.sim.addIdentity('carol', 'tmpl-carol');
    const x = await faceJpeg(101);
    const y = await faceJpeg(102);
    await h.file('x.jpg', x);
    await h.file('e.jpg', await faceJpeg(105));
    await h.file('y.jpg', y);
    await h.file('y-copy.jpg', await alter(y, 'jpeg-q60'));
    await h.file('c-id.jpg', withDirective(await faceJpeg(103), 'face=carol'));
    await h.file('d-id.jpg', withDirective(await faceJpeg(104), 'face=carol'));

    await night(runtime, await h.manifest('n1.jsonl', [
      { ref: 'x.jpg', check: 'ooto-deepfake', subject: 'A' },
      { ref: 'x.jpg', check: 'ooto-deepfake', subject: 'B' },
      { ref: 'e.jpg', check: 'ooto-deepfake', subject: 'E' },
    ]), 'night-1', 'default,ring');
    await night(runtime, await h.manifest('n2.jsonl', [
      { ref: 'y.jpg', check: 'ooto-deepfake', subject: 'B' },
      { ref: 'y-copy.jpg', check: 'ooto-deepfake', subject: 'C' },
    ]), 'night-2');
    await night(runtime, await h.manifest('n3.jsonl', [
      { ref: 'c-id.jpg', check: 'ooto-identify', subject: 'C' },
      { ref: 'd-id.jpg', check: 'ooto-identify', subject: 'D' },
    ]), 'night-3');

    const rings = await all(runtime);
    expect(rings).toHaveLength(1);
    const ring = rings[0]!;
    const firstId = ringIdOf({ kind: 'sha256', a: 'A', b: 'B' });
    expect(ring.id).toBe(firstId);
    expect(ring.subjects).toEqual(['A', 'B', 'C', 'D']);
    expect(ring.links.map((l) => [l.kind, l.a, l.b])).toEqual([['sha256', 'A', 'B'], ['phash', 'B', 'C'], ['template', 'C', 'D']]);
    expect(ring.links.map((l) => `${l.aRef.batch}/${l.bRef.batch}`)).toEqual(['night-1/night-1', 'night-2/night-2', 'night-3/night-3']);
    expect(ring.links[0]!.strength).toBe(0);
    expect(ring.links[1]!.strength).toBeLessThanOrEqual(9);
    expect(ring.links[2]!.strength).toBeGreaterThanOrEqual(0.75);
    expect(ring.firstSeen <= ring.lastSeen).toBe(true);
    expect(await subjectRings(runtime, 'E')).toEqual([]);
    expect(await subjectRings(runtime, 'C')).toEqual([firstId]);
    // Filters: a kind keeps its links and the subjects they join; a batch keeps rings it touched.
    expect((await all(runtime, { kinds: 'template' })).map((r) => r.subjects)).toEqual([['C', 'D']]);
    expect(await all(runtime, { minSize: 5 })).toEqual([]);
    expect((await all(runtime, { batch: 'night-2' })).map((r) => r.id)).toEqual([firstId]);
    // The CLI shows the same (`rings --all`, `rings show`).
    const cli = await runCli(['rings', '--all', '--format', 'jsonl'], h.env, 120_000);
    expect(cli.code).toBe(0);
    expect(cli.stdout.trim().split('\n').map((l) => JSON.parse(l) as Ring)).toEqual([ring]);
    const shown = await runCli(['rings', 'show', firstId], h.env, 120_000);
    expect(shown.stdout).toContain(`ring ${firstId}: 4 subjects, 3 links (sha256,phash,template)`);
    expect((await runCli(['rings', 'show', 'r0000000000000000'], h.env, 120_000)).stderr).toContain('no ring');
    expect(ringsDot(rings)).toContain('"A" -- "B" [label="sha256 0", color=red]');
    // night-1 asked for ring cases: A and B each got one, with the ring in the line's label.
    const cases = (await runtime.cases.listCases({ reason: 'ring' })).cases;
    expect(cases.map((c) => [c.batch, c.subject]).sort()).toEqual([['night-1', 'A'], ['night-1', 'B']]);
    for (const c of cases) {
      expect(c.reasons).toContain('ring');
      expect(c.lines[0]!.label).toContain(`ring ${firstId}: sha256 with`);
    }

    // A fourth batch: F with A's bytes joins; the ring keeps its id.
    await h.file('f.jpg', x);
    await night(runtime, await h.manifest('n4.jsonl', [{ ref: 'f.jpg', check: 'ooto-deepfake', subject: 'F' }]), 'night-4');
    const grown = await getRing(runtime, firstId);
    expect(grown.subjects).toEqual(['A', 'B', 'C', 'D', 'F']);
    expect((await all(runtime)).map((r) => r.id)).toEqual([firstId]);
    expect(grown.lastSeen >= ring.lastSeen).toBe(true);
    expect(await subjectRings(runtime, 'E')).toEqual([]);
  });
});
