/**
 * Issue 20, where rings show outside `rescreen rings`, on both stores: `GET /api/rings` (filters,
 * pages) and `GET /api/rings/{id}` give what the app layer's listRings/getRing give; the subject
 * route and `rescreen subject` name the subject's rings; the signed export carries `rings.jsonl`
 * and `verify` refuses an edited ring line. And a manifest line's own `templateId`: a non-string is
 * an invalid line; an identify match of another subject's own template is an identity collision.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { enqueueBatch, exportBatch, getRing, linkBatchRings, listRings, makeSigningKeys, startWorkers, verifyExport, waitForBatch, type Ring } from '../../../src/app/index.js';
import type { Runtime } from '../../../src/runtime/runtime.js';
import { ringIdOf, type RingLink } from '../../../src/store/rings.js';
import { faceJpeg } from '../../../src/testing/faces.js';
import { runCli } from '../../helpers/cli.js';
import { createHarness, STORE_KINDS, type Harness } from '../../helpers/pipeline.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const READ = 'read-token-7d1e3b5a9c2f4e60';
const as = { authorization: `Bearer ${READ}` };

let h: Harness | undefined;
let s: TestServer | undefined;
afterEach(async () => {
  await s?.close();
  await h?.close();
  s = undefined;
  h = undefined;
});

/** A JPEG with a simulator directive in a COM segment right after SOI. */
function withDirective(jpeg: Buffer, directives: string): Buffer {
  const text = Buffer.from(`rescreen-sim:${directives};`, 'latin1');
  const head = Buffer.from([0xff, 0xfe, (text.length + 2) >> 8, (text.length + 2) & 0xff]);
  return Buffer.concat([jpeg.subarray(0, 2), head, text, jpeg.subarray(2)]);
}

/** Screens a manifest to the end and links the batch into the rings (as its review scan does). */
async function night(runtime: Runtime, manifest: string, batch: string): Promise<void> {
  await enqueueBatch(runtime, { manifest, batch });
  const workers = startWorkers(runtime, { concurrency: 2 });
  try {
    await waitForBatch(runtime, batch);
  } finally {
    await workers.close();
  }
  await linkBatchRings(runtime, batch);
}

async function collect(runtime: Runtime, args: Parameters<typeof listRings>[1] = {}): Promise<Ring[]> {
  const out: Ring[] = [];
  for await (const r of listRings(runtime, args)) out.push(r);
  return out;
}

const json = <T>(res: { body: string }) => JSON.parse(res.body) as T;

function synthetic(kind: RingLink['kind'], a: string, b: string, at: string, strength: number): RingLink {
  return { kind, a, b, strength, aRef: { batch: 'elsewhere', line: 1 }, bRef: { batch: 'elsewhere', line: 2 }, at };
}

describe.each(STORE_KINDS)('rings on the API, in subject and in the signed export (%s store)', (store) => {
  it('GET /api/rings and /api/rings/{id} render the app layer; subject names the rings; rings.jsonl is signed; templateId collisions', async () => {
    h = await createHarness(`rings-surf-${store}`, {}, {}, { store });
    const keys = await makeSigningKeys(join(h.dir, 'signing.pem'));
    s = await startTestServer(h, { RESCREEN_API_TOKENS: `ro:read:${READ}` }, { RESCREEN_SIGNING_KEY: keys.privateKey });
    const runtime = s.runtime;
    h.sim.addIdentity('dave', 'tmpl-dave');

    // Night 1: A and B screened with the same bytes (a sha256 ring); E alone. D is enrolled as tmpl-dave;
    // M, enrolled as tmpl-m, shows dave's face and identify matches tmpl-dave: an identity collision D–M.
    // Line 7's templateId is a number: an invalid line.
    const x = await faceJpeg(201);
    await h.file('x.jpg', x);
    await h.file('e.jpg', await faceJpeg(202));
    await h.file('d.jpg', await faceJpeg(203));
    await h.file('m-id.jpg', withDirective(await faceJpeg(204), 'face=dave'));
    await night(runtime, await h.manifest('n1.jsonl', [
      { ref: 'x.jpg', check: 'ooto-deepfake', subject: 'A' },
      { ref: 'x.jpg', check: 'ooto-deepfake', subject: 'B' },
      { ref: 'e.jpg', check: 'ooto-deepfake', subject: 'E' },
      { ref: 'd.jpg', check: 'ooto-deepfake', subject: 'D', templateId: 'tmpl-dave' },
      { ref: 'm-id.jpg', check: 'ooto-identify', subject: 'M', templateId: 'tmpl-m' },
      { ref: 'e.jpg', check: 'ooto-deepfake', subject: 'F', templateId: '' },
      { ref: 'e.jpg', check: 'ooto-identify', subject: 'G', templateId: 42 },
    ]), 'night-1');

    const records = await Promise.all([4, 5, 7].map((line) => runtime.store.get('night-1', line)));
    expect(records[0]).toMatchObject({ subject: 'D', status: 'completed', enrolledTemplateId: 'tmpl-dave' });
    expect(records[1]).toMatchObject({ subject: 'M', status: 'completed', templateId: 'tmpl-dave', enrolledTemplateId: 'tmpl-m' });
    expect(records[2]).toMatchObject({ subject: 'G', status: 'failed', error: { code: 'INVALID_LINE', message: "templateId must be a string, the subject's own enrolled OOTO template id (got 42)" } });

    const abId = ringIdOf({ kind: 'sha256', a: 'A', b: 'B' });
    const dmId = ringIdOf({ kind: 'template', a: 'D', b: 'M' });
    // E and F share e.jpg (F's blank templateId is none): a third ring; G's line never ran.
    const efId = ringIdOf({ kind: 'sha256', a: 'E', b: 'F' });
    const dm = await getRing(runtime, dmId);
    expect(dm.subjects).toEqual(['D', 'M']);
    expect(dm.links).toHaveLength(1);
    expect(dm.links[0]).toMatchObject({ kind: 'template', a: 'D', b: 'M', collision: true, aRef: { batch: 'night-1', line: 4 }, bRef: { batch: 'night-1', line: 5 } });
    expect(dm.links[0]!.strength).toBeGreaterThanOrEqual(0.75);

    // Rings made elsewhere (other batches), to page through: a ring of 3 and two pairs, later.
    await runtime.rings.addLinks([
      synthetic('phash', 'P1', 'P2', '2030-01-01T00:00:00.000Z', 3),
      synthetic('phash', 'P2', 'P3', '2030-01-01T00:00:01.000Z', 5),
      synthetic('sha256', 'Q1', 'Q2', '2030-01-02T00:00:00.000Z', 0),
      synthetic('template', 'R1', 'R2', '2030-01-03T00:00:00.000Z', 0.8),
    ]);
    const everything = await collect(runtime);
    expect(everything).toHaveLength(6);
    expect(new Set(everything.map((r) => r.id))).toEqual(new Set([abId, dmId, efId, ringIdOf({ kind: 'phash', a: 'P1', b: 'P2' }), ringIdOf({ kind: 'sha256', a: 'Q1', b: 'Q2' }), ringIdOf({ kind: 'template', a: 'R1', b: 'R2' })]));

    // GET /api/rings: what listRings gives, JSON as the CLI's jsonl; the read role suffices.
    const all = await s.app.inject({ url: '/api/rings', headers: as });
    expect(all.statusCode, all.body).toBe(200);
    expect(json<{ rings: Ring[]; next: string | null }>(all)).toEqual({ rings: JSON.parse(JSON.stringify(everything)) as Ring[], next: null });
    expect(json<{ rings: Ring[] }>(await s.app.inject({ url: '/api/rings?all=true', headers: as })).rings).toHaveLength(6);
    // Pages of 4 then 2, the cursor carrying on where the first stopped.
    const first = json<{ rings: Ring[]; next: string | null }>(await s.app.inject({ url: '/api/rings?limit=4', headers: as }));
    expect(first.rings.map((r) => r.id)).toEqual(everything.slice(0, 4).map((r) => r.id));
    expect(first.next).not.toBeNull();
    const second = json<{ rings: Ring[]; next: string | null }>(await s.app.inject({ url: `/api/rings?limit=4&after=${first.next!}`, headers: as }));
    expect(second).toEqual({ rings: JSON.parse(JSON.stringify(everything.slice(4))) as Ring[], next: null });
    // Filters, as `rings --batch/--min-size/--kind`.
    const ids = async (query: string) => json<{ rings: Ring[] }>(await s!.app.inject({ url: `/api/rings?${query}`, headers: as })).rings.map((r) => r.id);
    expect((await ids('batch=night-1')).sort()).toEqual([abId, dmId, efId].sort());
    expect(await ids('minSize=3')).toEqual([ringIdOf({ kind: 'phash', a: 'P1', b: 'P2' })]);
    expect(await ids('kind=template')).toEqual((await collect(runtime, { kinds: 'template' })).map((r) => r.id));
    expect((await ids('kind=template')).sort()).toEqual([dmId, ringIdOf({ kind: 'template', a: 'R1', b: 'R2' })].sort());
    expect(await ids('batch=night-1&kind=phash,template')).toEqual([dmId]);
    const problem = async (url: string, status: number, code: string) => {
      const res = await s!.app.inject({ url, headers: as });
      expect(res.statusCode, res.body).toBe(status);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(json<{ code: string }>(res).code).toBe(code);
      return json<{ detail: string }>(res).detail;
    };
    expect(await problem('/api/rings?kind=faces', 400, 'INVALID_INPUT')).toContain('"faces" is not a link kind');
    await problem('/api/rings?minSize=1', 400, 'INVALID_INPUT');
    await problem('/api/rings?limit=0', 400, 'INVALID_INPUT');
    expect(await problem('/api/rings?batch=night-1&all=true', 400, 'INVALID_INPUT')).toBe('batch and all go one at a time');
    await problem('/api/rings?after=bm90LWEtY3Vyc29y', 400, 'INVALID_INPUT');
    await problem('/api/rings?batch=no-such-night', 404, 'NOT_FOUND');
    expect((await s.app.inject({ url: '/api/rings' })).statusCode).toBe(401);

    // GET /api/rings/{id}: getRing's ring; 404 problem+json for an unknown or malformed id.
    const one = await s.app.inject({ url: `/api/rings/${dmId}`, headers: as });
    expect(one.statusCode, one.body).toBe(200);
    expect(json<Ring>(one)).toEqual(JSON.parse(JSON.stringify(dm)));
    expect(await problem('/api/rings/r0000000000000000', 404, 'NOT_FOUND')).toBe('no ring "r0000000000000000"');
    await problem('/api/rings/not-a-ring', 404, 'NOT_FOUND');

    // The subject route names the rings; E's ring is the one with F.
    expect(json<{ rings: string[] }>(await s.app.inject({ url: '/api/subjects/M', headers: as })).rings).toEqual([dmId]);
    expect(json<{ rings: string[] }>(await s.app.inject({ url: '/api/subjects/A', headers: as })).rings).toEqual([abId]);
    expect(json<{ rings: string[] }>(await s.app.inject({ url: '/api/subjects/G', headers: as })).rings).toEqual([]);
    // So does `rescreen subject`, in its table and in each jsonl row.
    const table = await runCli(['subject', 'M'], h.env, 120_000);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain(`ring ${dmId}: 2 subjects (D, M), links template; rescreen rings show ${dmId}`);
    const rows = await runCli(['subject', 'A', '--format', 'jsonl'], h.env, 120_000);
    expect(rows.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { rings: string[] }).rings)).toEqual([[abId]]);
    expect((await runCli(['subject', 'G'], h.env, 120_000)).stdout).toContain('in no fraud ring');
    const shown = await runCli(['rings', 'show', dmId], h.env, 120_000);
    expect(shown.stdout).toMatch(/^template \(identity collision\)\s+D\s+M\s+/m);

    // The signed export: rings.jsonl holds the rings of night-1's subjects (not the others), signed.
    const out = join(h.dir, 'export');
    const exported = await exportBatch(runtime, 'night-1', out);
    expect(exported.manifest.files.map((f) => f.name)).toContain('rings.jsonl');
    expect(exported.manifest.files.find((f) => f.name === 'rings.jsonl')?.lines).toBe(3);
    const lines = (await readFile(join(out, 'rings.jsonl'), 'utf8')).trim().split('\n');
    expect(lines.map((l) => JSON.parse(l) as Ring)).toEqual(JSON.parse(JSON.stringify(everything.filter((r) => [abId, dmId, efId].includes(r.id)))));
    expect((await readFile(join(out, 'SHA256SUMS'), 'utf8')).split('\n').map((l) => l.slice(66))).toEqual(expect.arrayContaining(['rings.jsonl', 'rings.jsonl.lines']));
    expect(await verifyExport(out, keys.publicKey)).toMatchObject({ ok: true });
    // An edited ring line (a subject removed from a ring) is refused, naming the line and the ring.
    const victim = JSON.parse(lines[1]!) as Ring;
    const edited = lines.map((l, i) => (i === 1 ? JSON.stringify({ ...victim, subjects: victim.subjects.slice(1) }) : l));
    await writeFile(join(out, 'rings.jsonl'), `${edited.join('\n')}\n`);
    const verdict = await verifyExport(out, keys.publicKey);
    expect(verdict).toMatchObject({ ok: false, file: 'rings.jsonl', line: 2 });
    expect('names' in verdict ? verdict.names : undefined).toBe(`ring ${victim.id}`);
  });
});
