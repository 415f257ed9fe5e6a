/**
 * The dashboard's support routes through fastify.inject: a record's media, read again through the
 * media loader and served only when its bytes are the ones screened (MEDIA_CHANGED otherwise), a
 * ref that no longer resolves (MEDIA_NOT_FOUND), an internal host refused by the default host policy
 * before any byte is asked for, the meaning of every failure code, who the caller is, and raise.
 */
import { createServer, type Server } from 'node:http';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueBatch, startWorkers, waitForBatch, type WorkerHandle } from '../../../src/app/index.js';
import { ErrorCodes } from '../../../src/errors/errors.js';
import { sampleJpeg } from '../../../src/simulator/sample-media.js';
import { createHarness, type Harness } from '../../helpers/pipeline.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const OPERATOR = 'op-token-5d1e9a7c3b2f4e60';
const REVIEWER = 'rev-token-8a2c4e6f1b3d5a79';
const as = (t: string) => ({ authorization: `Bearer ${t}` });

let h: Harness;
let s: TestServer;
let workers: WorkerHandle;
let internal: Server;
let internalHits = 0;

beforeAll(async () => {
  h = await createHarness('media-route');
  // A real image server on loopback: refused by the default policy, so it must never be asked.
  internal = createServer((_req, res) => {
    internalHits++;
    res.writeHead(200, { 'content-type': 'image/jpeg' }).end(sampleJpeg({ seed: 9 }));
  });
  await new Promise<void>((resolve) => internal.listen(0, '127.0.0.1', resolve));
  const port = (internal.address() as { port: number }).port;
  // The default host policy (public addresses only), not the harness's loopback allowance.
  s = await startTestServer(h, { RESCREEN_API_TOKENS: `ops:operator:${OPERATOR},ann:reviewer:${REVIEWER}` }, { RESCREEN_MEDIA_ALLOW_HOSTS: '' });
  workers = startWorkers(s.runtime, { concurrency: 2 });
  const lines = [
    { ref: await h.file('a.jpg', sampleJpeg({ seed: 1 })), check: 'ooto-deepfake', subject: 'cust-a' },
    { ref: await h.file('b.jpg', sampleJpeg({ seed: 2 })), check: 'ooto-deepfake', subject: 'cust-b' },
    { ref: await h.file('c.jpg', sampleJpeg({ seed: 3 })), check: 'ooto-deepfake', subject: 'cust-c' },
    { ref: `http://127.0.0.1:${port}/d.jpg`, check: 'ooto-deepfake', subject: 'cust-d' },
  ];
  await enqueueBatch(s.runtime, { manifest: await h.manifest('m.jsonl', lines), batch: 'media-1' });
  await waitForBatch(s.runtime, 'media-1');
}, 120_000);

afterAll(async () => {
  await workers?.close();
  await s?.close();
  await new Promise((resolve) => internal?.close(resolve));
  await h?.close();
});

function problemOf(res: { statusCode: number; headers: Record<string, unknown>; body: string }, status: number, code: string) {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(res.body) as { code: string; detail: string };
  expect(body.code).toBe(code);
  return body;
}

describe('media route', () => {
  it('serves the screened bytes, sniffed, with the record’s sha256, to a reviewer token; 401 without one', async () => {
    const record = await s.runtime.store.get('media-1', 1);
    expect(record?.status).toBe('completed');
    const res = await s.app.inject({ url: '/api/batches/media-1/lines/1/media', headers: as(REVIEWER) });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('image/jpeg');
    expect(res.headers['x-rescreen-sha256']).toBe(record!.media![0]!.sha256);
    expect(res.headers['x-rescreen-verified']).toBe('true');
    expect(res.headers['content-security-policy']).toContain('sandbox');
    expect(res.rawPayload.equals(sampleJpeg({ seed: 1 }))).toBe(true);
    problemOf(await s.app.inject({ url: '/api/batches/media-1/lines/1/media' }), 401, 'UNAUTHORIZED');
  });

  it('refuses bytes that changed since the screening (MEDIA_CHANGED) and a ref that no longer resolves (MEDIA_NOT_FOUND)', async () => {
    await writeFile(join(h.dir, 'b.jpg'), sampleJpeg({ seed: 22 }));
    const changed = problemOf(await s.app.inject({ url: '/api/batches/media-1/lines/2/media', headers: as(REVIEWER) }), 409, ErrorCodes.MEDIA_CHANGED);
    expect(changed.detail).toMatch(/changed since it was screened/);
    await rm(join(h.dir, 'c.jpg'));
    problemOf(await s.app.inject({ url: '/api/batches/media-1/lines/3/media', headers: as(REVIEWER) }), 404, ErrorCodes.MEDIA_NOT_FOUND);
    problemOf(await s.app.inject({ url: '/api/batches/media-1/lines/99/media', headers: as(REVIEWER) }), 404, 'NOT_FOUND');
    problemOf(await s.app.inject({ url: '/api/batches/media-1/lines/1/media?item=2', headers: as(REVIEWER) }), 404, 'NOT_FOUND');
  });

  it('refuses an internal host by the media host policy, without asking it', async () => {
    const body = problemOf(await s.app.inject({ url: '/api/batches/media-1/lines/4/media', headers: as(REVIEWER) }), 422, ErrorCodes.MEDIA_HOST_REFUSED);
    expect(body.detail).toMatch(/127\.0\.0\.1/);
    expect(internalHits).toBe(0);
  });
});

describe('meanings, caller, raise', () => {
  it('gives a one-line meaning for every local code and the vendors’ engine codes', async () => {
    const { codes } = (await s.app.inject({ url: '/api/meanings', headers: as(REVIEWER) })).json<{ codes: Record<string, string> }>();
    for (const code of Object.values(ErrorCodes)) {
      expect(codes[code], code).toBeTruthy();
      expect(codes[code]).not.toContain('\n');
    }
    expect(codes['5']).toMatch(/can not detect face/);
    expect(codes['FILE_INVALID_FORMAT']).toMatch(/GLAIR/);
  });

  it('names the caller by its token’s name and role, never the token', async () => {
    const me = await s.app.inject({ url: '/api/me', headers: as(REVIEWER) });
    expect(me.json()).toEqual({ name: 'ann', role: 'reviewer' });
    expect(me.body).not.toContain(REVIEWER);
    expect((await s.app.inject({ url: '/api/me', headers: as(OPERATOR) })).json()).toEqual({ name: 'ops', role: 'operator' });
  });

  it('raises a batch’s caps for an operator; a reviewer gets 403', async () => {
    problemOf(await s.app.inject({ method: 'POST', url: '/api/batches/media-1/raise', headers: as(REVIEWER), payload: { maxCalls: 10 } }), 403, 'FORBIDDEN');
    problemOf(await s.app.inject({ method: 'POST', url: '/api/batches/media-1/raise', headers: as(OPERATOR), payload: {} }), 400, 'INVALID_INPUT');
    problemOf(await s.app.inject({ method: 'POST', url: '/api/batches/nope/raise', headers: as(OPERATOR), payload: { maxCalls: 10 } }), 404, 'NOT_FOUND');
    const raised = await s.app.inject({ method: 'POST', url: '/api/batches/media-1/raise', headers: as(OPERATOR), payload: { maxCalls: 10 } });
    expect(raised.statusCode, raised.body).toBe(200);
    expect(raised.json()).toMatchObject({ maxCalls: 10, budgetReached: false });
  });
});
