/**
 * The HTTP API through fastify.inject: every route, tokens and roles, problem+json on bad input,
 * the allow-listed manifest root, the audit trail, and no secret in any answer or log line.
 */
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseOpenApi, validate as validateOpenApi } from '@readme/openapi-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkers, waitForBatch, type WorkerHandle } from '../../../src/app/index.js';
import { sampleJpeg } from '../../../src/simulator/sample-media.js';
import { createHarness, type Harness } from '../../helpers/pipeline.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const OPERATOR = 'op-token-7f3a9c2e5b1d4a68';
const READER = 'read-token-0c9e8d7f6a5b4c3d';
const TOKENS = `ops:operator:${OPERATOR},dash:read:${READER}`;

let h: Harness;
let s: TestServer;
let workers: WorkerHandle;
const op = { authorization: `Bearer ${OPERATOR}` };
const reader = { authorization: `Bearer ${READER}` };

beforeAll(async () => {
  h = await createHarness('api');
  await h.file('media/a.jpg', sampleJpeg({ seed: 1 }));
  await h.file('media/b.jpg', sampleJpeg({ seed: 2, directives: 'noface' }));
  await h.file('root/m.jsonl', `${JSON.stringify({ ref: '../media/a.jpg', check: 'ooto-deepfake', subject: 'cust-9' })}\n`);
  await mkdir(join(h.dir, 'outside'), { recursive: true });
  await writeFile(join(h.dir, 'outside', 'secret.jsonl'), '{}\n');
  await symlink(join(h.dir, 'outside', 'secret.jsonl'), join(h.dir, 'root', 'link.jsonl'));
  s = await startTestServer(h, { RESCREEN_API_TOKENS: TOKENS, RESCREEN_SERVE_MANIFEST_ROOT: join(h.dir, 'root'), RESCREEN_API_BODY_LIMIT: '4096' });
  workers = startWorkers(s.runtime, { metrics: s.metrics });
});

afterAll(async () => {
  await workers?.close();
  await s?.close();
  await h?.close();
});

function expectProblem(res: { statusCode: number; headers: Record<string, unknown>; body: string }, status: number, code: string) {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(res.body) as { status: number; code: string; type: string; detail: string };
  expect(body).toMatchObject({ status, code, type: `urn:rescreen:problem:${code}` });
  expect(body.detail).not.toMatch(/\n\s+at /); // never a stack trace
  return body;
}

describe('rescreen serve API (inject)', () => {
  it('answers 401 on /api/* without a valid token, keeps health, metrics, openapi and the dashboard open', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong-token-000000000' }, { authorization: OPERATOR }, { authorization: `Basic ${OPERATOR}` }]) {
      const res = await s.app.inject({ method: 'GET', url: '/api/batches', headers });
      expectProblem(res, 401, 'UNAUTHORIZED');
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    }
    expectProblem(await s.app.inject({ method: 'POST', url: '/api/batches/x/retry' }), 401, 'UNAUTHORIZED');
    expect((await s.app.inject({ url: '/healthz' })).json()).toEqual({ ok: true });
    expect((await s.app.inject({ url: '/readyz' })).json()).toMatchObject({ ready: true, checks: { redis: { ok: true }, store: { ok: true } } });
    expect((await s.app.inject({ url: '/metrics' })).body).toContain('rescreen_vendor_requests_total');
    const page = await s.app.inject({ url: '/' });
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('<script type="module" src="/dashboard.js">');
    expect((await s.app.inject({ url: '/dashboard.js' })).statusCode).toBe(200);
  });

  it('a read-only token reads but may not enqueue or retry (403)', async () => {
    expect((await s.app.inject({ url: '/api/batches', headers: reader })).statusCode).toBe(200);
    expectProblem(await s.app.inject({ method: 'POST', url: '/api/batches/x/retry', headers: reader }), 403, 'FORBIDDEN');
    expectProblem(await s.app.inject({ method: 'POST', url: '/api/batches', headers: { ...reader, 'content-type': 'application/json' }, payload: { path: 'm.jsonl' } }), 403, 'FORBIDDEN');
  });

  it('enqueues an uploaded manifest and a server-side path, then serves every read route', async () => {
    const manifest = [
      { ref: join(h.dir, 'media/a.jpg'), check: 'ooto-deepfake', subject: 'cust-1' },
      { ref: join(h.dir, 'media/b.jpg'), check: 'ooto-deepfake', subject: 'cust-2' },
      { ref: join(h.dir, 'media/missing.jpg'), check: 'ooto-deepfake', subject: 'cust-3' },
      'not an object',
    ]
      .map((l) => JSON.stringify(l))
      .join('\n');
    const up = await s.app.inject({ method: 'POST', url: '/api/batches?batch=api-up', headers: { ...op, 'content-type': 'application/x-ndjson' }, payload: manifest });
    expect(up.statusCode, up.body).toBe(202);
    expect(up.json()).toMatchObject({ batch: 'api-up', lines: 4, enqueued: 3, invalid: 1, invalidLines: [{ line: 4 }] });
    // The same upload without a batch id gets one from its content: the same twice.
    const again = await s.app.inject({ method: 'POST', url: '/api/batches?dryRun=true', headers: { ...op, 'content-type': 'application/x-ndjson' }, payload: manifest });
    expect(again.json()).toMatchObject({ batch: expect.stringMatching(/^upload-[0-9a-f]{12}$/), dryRun: true });

    const byPath = await s.app.inject({ method: 'POST', url: '/api/batches?batch=api-path', headers: { ...op, 'content-type': 'application/json' }, payload: { path: 'm.jsonl' } });
    expect(byPath.statusCode, byPath.body).toBe(202);
    expect(byPath.json()).toMatchObject({ batch: 'api-path', enqueued: 1 });

    await waitForBatch(s.runtime, 'api-up');
    await waitForBatch(s.runtime, 'api-path');

    const list = (await s.app.inject({ url: '/api/batches?limit=10', headers: reader })).json<{ batches: { summary: { batch: string } }[] }>();
    expect(list.batches.map((b) => b.summary.batch)).toEqual(expect.arrayContaining(['api-up', 'api-path']));
    const one = (await s.app.inject({ url: '/api/batches/api-up', headers: reader })).json();
    expect(one).toMatchObject({ finished: true, progress: 1, pending: { ooto: 0, glair: 0 }, summary: { total: 4, recorded: 4, byStatus: { completed: 1, rejected: 1, failed: 2 } } });

    const jsonl = await s.app.inject({ url: '/api/batches/api-up/results', headers: reader });
    expect(jsonl.headers['content-type']).toMatch(/^application\/x-ndjson/);
    const records = jsonl.body.trim().split('\n').map((l) => JSON.parse(l) as { line: number; status: string; transactionId: string | null; subject: string });
    expect(records.map((r) => r.line)).toEqual([1, 2, 3, 4]);
    const csv = await s.app.inject({ url: '/api/batches/api-up/results?format=csv&status=failed', headers: reader });
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.headers['content-disposition']).toBe('attachment; filename="api-up.csv"');
    const rows = csv.body.trim().split('\n');
    expect(rows[0]).toMatch(/^batch,line,subject,ref,frames,check,status,transactionId/);
    expect(rows).toHaveLength(3); // header + lines 3 and 4

    const failures = (await s.app.inject({ url: '/api/batches/api-up/failures', headers: reader })).json();
    expect(failures).toEqual({ batch: 'api-up', byCode: { '5': 1, MEDIA_NOT_FOUND: 1, INVALID_LINE: 1 } });

    const tx = records[0]!.transactionId!;
    expect((await s.app.inject({ url: `/api/records/${tx}`, headers: reader })).json()).toMatchObject({ batch: 'api-up', line: 1, transactionId: tx });
    const subject = (await s.app.inject({ url: '/api/subjects/cust-1', headers: reader })).json();
    expect(subject).toMatchObject({ subject: 'cust-1', records: [{ batch: 'api-up', line: 1 }] });
    expect((await s.app.inject({ url: '/api/subjects/nobody', headers: reader })).json()).toEqual({ subject: 'nobody', records: [], cases: [], rings: [] });

    const retry = await s.app.inject({ method: 'POST', url: '/api/batches/api-up/retry', headers: op });
    expect(retry.statusCode).toBe(202);
    expect(retry.json()).toMatchObject({ batch: 'api-up', requeued: 1, invalid: 1, rejected: 1 });

    expect((await s.app.inject({ url: '/api/schedules', headers: reader })).json()).toEqual({ schedules: [] });
    expect((await s.app.inject({ url: '/api/webhooks', headers: reader })).json()).toMatchObject({ configured: false, counts: { pending: 0, delivered: 0, failed: 0 } });
    expect((await s.app.inject({ url: '/api/quotas', headers: reader })).json()).toHaveLength(2);
  });

  it('answers problem+json on bad input: validation, unknown ids and routes, paths outside the root, too large a body', async () => {
    const bad = expectProblem(await s.app.inject({ url: '/api/batches?limit=abc', headers: reader }), 400, 'INVALID_INPUT');
    expect(bad.detail).toContain('querystring');
    expectProblem(await s.app.inject({ url: '/api/batches/api-up/results?format=xml', headers: reader }), 400, 'INVALID_INPUT');
    expectProblem(await s.app.inject({ url: '/api/batches/nope', headers: reader }), 404, 'NOT_FOUND');
    expectProblem(await s.app.inject({ url: '/api/batches/nope/results', headers: reader }), 404, 'NOT_FOUND');
    expectProblem(await s.app.inject({ url: '/api/records/nope', headers: reader }), 404, 'NOT_FOUND');
    expectProblem(await s.app.inject({ method: 'POST', url: '/api/batches/nope/retry', headers: op }), 404, 'NOT_FOUND');
    expectProblem(await s.app.inject({ url: '/api/nothing-here', headers: reader }), 404, 'NOT_FOUND');
    expectProblem(await s.app.inject({ url: '/nothing-here' }), 404, 'NOT_FOUND');
    const json = { ...op, 'content-type': 'application/json' };
    expectProblem(await s.app.inject({ method: 'POST', url: '/api/batches', headers: json, payload: '{"path": ' }), 400, 'INVALID_INPUT');
    expectProblem(await s.app.inject({ method: 'POST', url: '/api/batches', headers: json, payload: { nope: 1 } }), 400, 'INVALID_INPUT');
    expectProblem(await s.app.inject({ method: 'POST', url: '/api/batches', headers: json, payload: { path: '../outside/secret.jsonl' } }), 403, 'FORBIDDEN');
    expectProblem(await s.app.inject({ method: 'POST', url: '/api/batches', headers: json, payload: { path: join(h.dir, 'outside/secret.jsonl') } }), 403, 'FORBIDDEN');
    expectProblem(await s.app.inject({ method: 'POST', url: '/api/batches', headers: json, payload: { path: 'link.jsonl' } }), 403, 'FORBIDDEN');
    expectProblem(await s.app.inject({ method: 'POST', url: '/api/batches', headers: json, payload: { path: 'missing.jsonl' } }), 400, 'INVALID_INPUT');
    expectProblem(await s.app.inject({ method: 'POST', url: '/api/batches?batch=bad%20id', headers: json, payload: { path: 'm.jsonl' } }), 400, 'INVALID_INPUT');
    const nd = { ...op, 'content-type': 'application/x-ndjson' };
    expectProblem(await s.app.inject({ method: 'POST', url: '/api/batches', headers: nd, payload: 'x'.repeat(10_000) }), 413, 'PAYLOAD_TOO_LARGE');
    expectProblem(await s.app.inject({ method: 'POST', url: '/api/batches', headers: json, payload: JSON.stringify({ path: 'x'.repeat(10_000) }) }), 413, 'PAYLOAD_TOO_LARGE');
    expectProblem(await s.app.inject({ method: 'POST', url: '/api/batches', headers: nd, payload: '' }), 400, 'INVALID_INPUT');
    expectProblem(await s.app.inject({ method: 'POST', url: '/api/batches', headers: { ...op, 'content-type': 'image/gif' }, payload: 'GIF89a' }), 415, 'INVALID_INPUT');
  });

  it('logs every state-changing request with who, what and when, and never a token or a credential', async () => {
    const audit = s.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.audit === true);
    expect(audit.length).toBeGreaterThan(5);
    expect(audit).toEqual(expect.arrayContaining([expect.objectContaining({ who: 'ops', method: 'POST', route: '/api/batches/:id/retry', params: { id: 'api-up' }, status: 202 })]));
    expect(audit).toEqual(expect.arrayContaining([expect.objectContaining({ who: 'dash', method: 'POST', status: 403 })]));
    expect(audit).toEqual(expect.arrayContaining([expect.objectContaining({ who: 'ops', route: '/api/batches', query: { batch: 'api-up', dryRun: false }, status: 202 })]));
    expect(audit).toEqual(expect.arrayContaining([expect.objectContaining({ who: 'unauthenticated', status: 401 })]));
    for (const l of audit) expect(l.at).toMatch(/^\d{4}-\d\d-\d\dT/);
    const everything = s.logs.join('\n');
    for (const secret of [OPERATOR, READER, h.env.OOTO_APP_KEY!, h.env.GLAIR_PASSWORD!]) expect(everything).not.toContain(secret);
  });

  it('/openapi.json is a valid OpenAPI 3.1 document describing every route', async () => {
    const doc = (await s.app.inject({ url: '/openapi.json' })).json<{ openapi: string; paths: Record<string, unknown> }>();
    expect(doc.openapi).toBe('3.1.0');
    const result = await validateOpenApi(structuredClone(doc) as never);
    expect(result.valid, JSON.stringify((result as { errors?: unknown }).errors)).toBe(true);
    await parseOpenApi(structuredClone(doc) as never);
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        '/api/batches',
        '/api/batches/{id}',
        '/api/batches/{id}/failures',
        '/api/batches/{id}/results',
        '/api/batches/{id}/retry',
        '/api/batches/{id}/pause',
        '/api/batches/{id}/resume',
        '/api/batches/{id}/cancel',
        '/api/quotas',
        '/api/records/{transactionId}',
        '/api/schedules',
        '/api/subjects/{subject}',
        '/api/webhooks',
        '/api/cases',
        '/api/cases/next',
        '/api/cases/{id}',
        '/api/cases/{id}/decisions',
        '/api/cases/{id}/release',
        '/api/batches/{id}/changes',
        '/api/batches/{id}/drift',
        '/api/batches/{id}/raise',
        '/api/batches/{id}/lines/{line}/media',
        '/api/meanings',
        '/api/me',
        '/api/rings',
        '/api/rings/{id}',
        '/healthz',
        '/metrics',
        '/readyz',
      ].sort(),
    );
  });
});

describe('batch controls over the API', () => {
  it('pause, resume and cancel a running batch (operator only); a finished batch answers problem+json', async () => {
    const lines = Array.from({ length: 30 }, (_, i) => JSON.stringify({ ref: '../media/a.jpg', check: 'ooto-deepfake', subject: `ctl-${i}` })).join('\n');
    await workers.close();
    const created = await s.app.inject({ method: 'POST', url: '/api/batches?batch=ctl-1', headers: { ...op, 'content-type': 'application/x-ndjson' }, payload: `${lines}\n` });
    expect(created.statusCode, created.body).toBeLessThan(300);
    expectProblem(await s.app.inject({ method: 'POST', url: '/api/batches/ctl-1/pause', headers: reader }), 403, 'FORBIDDEN');
    const paused = await s.app.inject({ method: 'POST', url: '/api/batches/ctl-1/pause', headers: op });
    expect(paused.json()).toEqual({ batch: 'ctl-1', state: 'paused', jobs: 0 });
    const view = (await s.app.inject({ url: '/api/batches/ctl-1', headers: reader })).json<{ state: string; waiting: string[] }>();
    expect(view.state).toBe('paused');
    expect(view.waiting).toContain('paused: its lines wait (rescreen batch resume ctl-1)');
    expect((await s.app.inject({ method: 'POST', url: '/api/batches/ctl-1/resume', headers: op })).json()).toMatchObject({ state: 'running' });
    const cancelled = await s.app.inject({ method: 'POST', url: '/api/batches/ctl-1/cancel', headers: op });
    expect(cancelled.json()).toEqual({ batch: 'ctl-1', state: 'cancelled', jobs: 30 });
    const done = await waitForBatch(s.runtime, 'ctl-1', { pollMs: 50 });
    expect(done?.byStatus).toEqual({ completed: 0, rejected: 0, failed: 30 });
    expectProblem(await s.app.inject({ method: 'POST', url: '/api/batches/ctl-1/pause', headers: op }), 400, 'INVALID_INPUT');
    expectProblem(await s.app.inject({ method: 'POST', url: '/api/batches/nope/cancel', headers: op }), 404, 'NOT_FOUND');
    workers = startWorkers(s.runtime, { metrics: s.metrics });
  });
});
