/**
 * Issue 19 acceptance: the review queue. Three reviewers call `next` concurrently 20 times each and
 * no case is handed out twice, an expired lease returns its case; decisions by the CLI and by the
 * API appear in `review list` and in the webhook deliveries (case.opened and case.decided, valid
 * signatures); a reviewer token gets 403 on pause, cancel, raise and enqueue (audit-logged), and no
 * token value appears in any decision or log line. The four decisions are in the batch's signed
 * export (`decisions.jsonl`); editing one decision line makes `verify` exit 1 naming it. Bad input: unknown case exit 1 / 404, a bad
 * decision or an empty note exit 2 / 400, a claim held by someone else exit 2 / 409.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { listCases, nextCase, openCases, ringOpening, type ReviewCase } from '../../../src/app/index.js';
import { standardSecret } from '../../../src/notify/webhook.js';
import { sampleJpeg } from '../../../src/simulator/sample-media.js';
import { startWorkers } from '../../../src/runtime/runtime.js';
import { runCli } from '../../helpers/cli.js';
import { createHarness, eventually, STORE_KINDS, type Harness } from '../../helpers/pipeline.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const OPERATOR = 'op-token-0123456789abcdef';
const REVIEWER = 'rv-token-0123456789abcdef';
const SECRET = 'whsec-0123456789abcdef';

let h: Harness | undefined;
let server: TestServer | undefined;
let receiver: Server | undefined;
afterEach(async () => {
  await server?.close();
  await h?.close();
  await new Promise((r) => (receiver ? receiver.close(r) : r(undefined)));
  h = undefined;
  server = undefined;
  receiver = undefined;
});

const line = (n: number) => ({ line: n, check: 'ooto-deepfake', status: 'completed', verdict: 'deepfake' as const, score: 0.1, transactionId: null, kind: 'new', label: 'new', mediaSha256: null, code: null, baseline: null, reasons: ['ring' as const] });

describe.each(STORE_KINDS)('the review queue (%s store)', (store) => {
  it('three reviewers × 20 concurrent `next`: no case twice; an expired lease returns its case', async () => {
    h = await createHarness(`queue-${store}`, {}, {}, { store });
    const runtimes = await Promise.all([h.openRuntime(), h.openRuntime(), h.openRuntime()]);
    // The rings hook: cases opened through the app layer's openCases.
    const opened = await openCases(runtimes[0], Array.from({ length: 50 }, (_, i) => ringOpening('ring-batch', `s${String(i).padStart(2, '0')}`, [line(i + 1)])));
    expect(opened).toHaveLength(50);
    const got = await Promise.all(
      Array.from({ length: 60 }, (_, i) => nextCase(runtimes[i % 3]!, { reviewer: ['ann', 'bob', 'cat'][i % 3]!, leaseMs: 60_000 })),
    );
    const cases = got.filter((c): c is ReviewCase => c !== null);
    expect(cases).toHaveLength(50);
    expect(new Set(cases.map((c) => c.id)).size).toBe(50);
    expect(await nextCase(runtimes[0], { reviewer: 'dan', leaseMs: 60_000 })).toBeNull();

    const [fresh] = await openCases(runtimes[0], [ringOpening('ring-batch', 'late', [line(99)])]);
    expect((await nextCase(runtimes[1], { reviewer: 'eve', leaseMs: 1_000 }))?.id).toBe(fresh!.id);
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await nextCase(runtimes[2], { reviewer: 'fay', leaseMs: 60_000 }))?.id).toBe(fresh!.id);
  });
});

describe('decisions by the CLI and the API, webhooks, roles', () => {
  it('decisions appear in review list and in signed case.opened / case.decided webhooks; a reviewer token only reads and decides', async () => {
    const deliveries: { event: string; id: string; body: string; ok: boolean }[] = [];
    // A receiver built only from the `standardwebhooks` library checks every delivery's signature.
    const standard = new Webhook(standardSecret(SECRET));
    const verified = (body: string, headers: IncomingHttpHeaders) => {
      try {
        standard.verify(body, headers as Record<string, string>);
        return true;
      } catch {
        return false;
      }
    };
    receiver = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        deliveries.push({ event: String(req.headers['x-rescreen-event']), id: String(req.headers['webhook-id']), body, ok: verified(body, req.headers) });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    h = await createHarness('review-flow', {}, { RESCREEN_WEBHOOK_URL: url, RESCREEN_WEBHOOK_SECRET: SECRET });
    const runtime = await h.openRuntime();
    // The batch `night` screened a-d (all genuine: it opens no case by itself); the rings hook opens theirs.
    for (const [i, s] of ['a', 'b', 'c', 'd'].entries()) await h.file(`${s}.jpg`, sampleJpeg({ seed: i + 1, directives: 'genuine,score=0.95' }));
    const ran = await runCli(['run', await h.manifest('night.jsonl', ['a', 'b', 'c', 'd'].map((s) => ({ ref: `${s}.jpg`, check: 'ooto-deepfake', subject: s }))), '--batch', 'night'], h.env);
    expect(ran.code, ran.stderr).toBe(0);
    await openCases(runtime, ['a', 'b', 'c', 'd'].map((s, i) => ringOpening('night', s, [line(i + 1)])));
    const ids = (await listCases(runtime)).cases.map((c) => c.id);

    // Two decisions by the CLI: the first claims with `next`, then decides.
    const next = await runCli(['review', 'next', '--reviewer', 'ann', '--json'], h.env);
    expect(next.code, next.stderr).toBe(0);
    const claimed = JSON.parse(next.stdout) as ReviewCase;
    expect(claimed.id).toBe(ids[0]);
    // Someone else cannot decide it while the claim holds (exit 2); the bad inputs change nothing.
    const other = await runCli(['review', 'decide', claimed.id, '--as', 'cleared', '--reviewer', 'bob'], h.env);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/claimed by ann/);
    expect((await runCli(['review', 'decide', claimed.id, '--as', 'maybe', '--reviewer', 'ann'], h.env)).code).toBe(2);
    const noNote = await runCli(['review', 'decide', claimed.id, '--as', 'confirmed-fraud', '--reviewer', 'ann'], h.env);
    expect(noNote.code).toBe(2);
    expect(noNote.stderr).toMatch(/needs a --note/);
    const unknown = await runCli(['review', 'show', 'c0000000000000000'], h.env);
    expect(unknown.code).toBe(1);
    expect((await runCli(['review', 'decide', claimed.id, '--as', 'confirmed-fraud', '--note', 'same face as d', '--reviewer', 'ann'], h.env)).code).toBe(0);
    expect((await runCli(['review', 'decide', ids[1]!, '--as', 'cleared', '--reviewer', 'bob'], h.env)).code).toBe(0);
    const shown = await runCli(['review', 'show', claimed.id], h.env);
    expect(shown.stdout).toContain('confirmed-fraud by ann: same face as d');

    // Two by the API, as the reviewer token (its name is the reviewer).
    server = await startTestServer(h, { RESCREEN_API_TOKENS: `olga:operator:${OPERATOR},rita:reviewer:${REVIEWER}` }, { RESCREEN_WEBHOOK_URL: url, RESCREEN_WEBHOOK_SECRET: SECRET });
    const as = (token: string) => ({ authorization: `Bearer ${token}` });
    const claim = await server.app.inject({ method: 'POST', url: '/api/cases/next', headers: as(REVIEWER), payload: {} });
    expect(claim.statusCode, claim.body).toBe(200);
    const c3 = claim.json<{ case: ReviewCase }>().case;
    expect(c3).toMatchObject({ id: ids[2], claimedBy: 'rita', state: 'claimed' });
    const conflict = await server.app.inject({ method: 'POST', url: `/api/cases/${c3.id}/decisions`, headers: as(OPERATOR), payload: { decision: 'cleared' } });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.headers['content-type']).toMatch(/problem\+json/);
    expect((await server.app.inject({ method: 'POST', url: `/api/cases/${c3.id}/decisions`, headers: as(REVIEWER), payload: { decision: 'nope' } })).statusCode).toBe(400);
    expect((await server.app.inject({ method: 'GET', url: '/api/cases/c0000000000000000', headers: as(REVIEWER) })).statusCode).toBe(404);
    for (const id of [c3.id, ids[3]!]) {
      const decided = await server.app.inject({ method: 'POST', url: `/api/cases/${id}/decisions`, headers: as(REVIEWER), payload: { decision: 'escalate', note: 'second look' } });
      expect(decided.statusCode, decided.body).toBe(201);
      expect(decided.json()).toMatchObject({ decision: { reviewer: 'rita', decision: 'escalate' } });
    }
    const evidence = await server.app.inject({ method: 'GET', url: `/api/cases/${c3.id}`, headers: as(REVIEWER) });
    expect(evidence.json()).toMatchObject({ case: { id: c3.id, decision: 'escalate' }, decisions: [{ reviewer: 'rita' }] });

    // The reviewer may not pause, cancel, raise or enqueue: 403, and each refusal is in the audit log.
    for (const url403 of ['/api/batches/night/pause', '/api/batches/night/cancel', '/api/batches/night/raise', '/api/batches']) {
      const refused = await server.app.inject({ method: 'POST', url: url403, headers: as(REVIEWER), payload: {} });
      expect(refused.statusCode, url403).toBe(403);
    }
    await eventually(async () => server!.logs.filter((l) => l.includes('"audit":true') && l.includes('"status":403')).length, (n) => n === 4);

    // All four decisions in `review list`, by the CLI and the API.
    const list = await runCli(['review', 'list', '--state', 'decided', '--format', 'jsonl'], h.env);
    const decided = list.stdout.trim().split('\n').map((l) => JSON.parse(l) as ReviewCase);
    expect(decided.map((c) => [c.id, c.decidedBy]).sort()).toEqual([[ids[0], 'ann'], [ids[1], 'bob'], [ids[2], 'rita'], [ids[3], 'rita']].sort());
    const api = await server.app.inject({ method: 'GET', url: '/api/cases?state=decided', headers: as(REVIEWER) });
    expect(api.json<{ counts: { decided: number } }>().counts.decided).toBe(4);

    // Webhooks: one case.opened per case, one case.decided per decision, every signature valid.
    const workers = startWorkers(runtime);
    try {
      await eventually(async () => deliveries.filter((d) => d.event.startsWith('case.')).length, (n) => n >= 8);
    } finally {
      await workers.close();
    }
    expect(deliveries.filter((d) => d.event === 'case.opened')).toHaveLength(4);
    expect(deliveries.filter((d) => d.event === 'case.decided')).toHaveLength(4);
    expect(deliveries.length).toBeGreaterThan(0);
    expect(deliveries.every((d) => d.ok)).toBe(true);
    expect(new Set(deliveries.map((d) => d.id)).size).toBe(deliveries.length);
    const fraud = deliveries.map((d) => JSON.parse(d.body) as { event: string; decision?: { decision: string; reviewer: string } }).find((b) => b.decision?.decision === 'confirmed-fraud');
    expect(fraud?.decision?.reviewer).toBe('ann');

    // The signed export of `night` carries the cases and all four decisions; an edited decision line
    // makes `verify` exit 1 naming that case and decision.
    expect((await runCli(['keygen', '--out', join(h.dir, 'signing.pem')], h.env)).code).toBe(0);
    const out = join(h.dir, 'export-night');
    const exported = await runCli(['export', 'night', '--out', out], { ...h.env, RESCREEN_SIGNING_KEY: join(h.dir, 'signing.pem') });
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toMatch(/^exported batch night: 4 records, 4 review cases and 4 decisions, /);
    const verify = () => runCli(['verify', out, '--public-key', join(h!.dir, 'signing.pem.pub')], h!.env);
    const ok = await verify();
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^OK: batch night, 4 records, 4 review cases and 4 decisions, /);
    const exportedCases = (await readFile(join(out, 'cases.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as ReviewCase);
    expect(exportedCases.map((c) => [c.id, c.decidedBy])).toEqual([[ids[0], 'ann'], [ids[1], 'bob'], [ids[2], 'rita'], [ids[3], 'rita']]);
    const decisionLines = (await readFile(join(out, 'decisions.jsonl'), 'utf8')).trim().split('\n');
    const exportedDecisions = decisionLines.map((l) => JSON.parse(l) as { id: string; caseId: string; decision: string; reviewer: string });
    expect(exportedDecisions.map((d) => [d.caseId, d.decision, d.reviewer])).toEqual([
      [ids[0], 'confirmed-fraud', 'ann'],
      [ids[1], 'cleared', 'bob'],
      [ids[2], 'escalate', 'rita'],
      [ids[3], 'escalate', 'rita'],
    ]);
    const exportText = (await Promise.all(['cases.jsonl', 'decisions.jsonl', 'manifest.json'].map((f) => readFile(join(out, f), 'utf8')))).join('\n');
    expect(exportText).not.toContain(REVIEWER);
    expect(exportText).not.toContain(OPERATOR);
    decisionLines[2] = decisionLines[2]!.replace('"escalate"', '"cleared"');
    await writeFile(join(out, 'decisions.jsonl'), `${decisionLines.join('\n')}\n`);
    const edited = await verify();
    expect(edited.code).toBe(1);
    expect(edited.stdout).toBe(`ALTERED: decisions.jsonl line 3 (case ${ids[2]}, decision ${ids[2]}#1 by rita): line 3 was altered\n`);

    // No token value anywhere: decisions, the export, the server's log.
    const everything = [(await runCli(['review', 'export', '--decisions'], h.env)).stdout, ...server.logs, ...deliveries.map((d) => d.body)].join('\n');
    expect(everything).toContain('rita');
    expect(everything).not.toContain(REVIEWER);
    expect(everything).not.toContain(OPERATOR);
    // Some twenty CLI runs in one story: on a loaded box that is more than the default 180 s.
  }, 600_000);
});
