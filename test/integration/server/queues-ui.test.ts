/**
 * `serve --queues-ui` (issue 22, Bull Board) through fastify.inject, on a real Redis under the
 * harness's prefix: operators only (401 without a token, 403 for a read or reviewer token, on the
 * page, its static files and its API alike), the API lists exactly rescreen's queues with their job
 * counts, every write is refused, the login form's cookie stands in for the header (and a wrong or
 * non-operator token gets none), no token reaches a log line, and without the flag /queues is 404.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSchedule, enqueueBatch } from '../../../src/app/index.js';
import { buildServer } from '../../../src/server/index.js';
import { sampleJpeg, sampleMp4 } from '../../../src/simulator/sample-media.js';
import { startCli } from '../../helpers/cli.js';
import { createHarness, eventually, type Harness } from '../../helpers/pipeline.js';
import { serverConfig, startTestServer, type TestServer } from '../../helpers/server.js';

const OPERATOR = 'op-token-5d1e9a3c7b2f4e80';
const READER = 'read-token-8a6c4e2b0d9f7a13';
const REVIEWER = 'rev-token-3f5b7d9e1a2c4b66';
const TOKENS = `olga:operator:${OPERATOR},dash:read:${READER},rita:reviewer:${REVIEWER}`;
const QUEUES = ['ooto', 'glair', 'notifications', 'review', 'schedules'];

let h: Harness;
let s: TestServer;
/** A static file of the board, named by its page. */
let asset: string;

interface BoardQueue {
  name: string;
  counts: Record<string, number>;
  readOnlyMode: boolean;
  isPaused: boolean;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function boardQueues(headers: Record<string, string>): Promise<BoardQueue[]> {
  const res = await s.app.inject({ url: '/queues/api/queues', headers });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ queues: BoardQueue[] }>().queues;
}

async function login(token: string, headers: Record<string, string> = {}) {
  return s.app.inject({
    method: 'POST',
    url: '/queues/login',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    payload: new URLSearchParams({ token, next: '/queues/queue/ooto' }).toString(),
  });
}

beforeAll(async () => {
  h = await createHarness('queues-ui');
  for (const n of [1, 2, 3]) await h.file(`m/${n}.jpg`, sampleJpeg({ seed: n }));
  for (const n of [1, 2]) await h.file(`m/${n}.mp4`, sampleMp4({ seed: n }));
  const manifest = await h.manifest('m.jsonl', [
    { ref: 'm/1.jpg', check: 'ooto-deepfake', subject: 'cust-1' },
    { ref: 'm/2.jpg', check: 'ooto-deepfake', subject: 'cust-2' },
    { ref: 'm/3.jpg', check: 'ooto-deepfake', subject: 'cust-3' },
    { ref: 'm/1.mp4', check: 'glair-video', subject: 'cust-1' },
    { ref: 'm/2.mp4', check: 'glair-video', subject: 'cust-2' },
  ]);
  s = await startTestServer(h, { RESCREEN_API_TOKENS: TOKENS }, {}, { queuesUi: true });
  // No worker runs: the jobs stay queued for the board to count.
  await enqueueBatch(s.runtime, { manifest, batch: 'night-1' });
  await addSchedule(s.runtime, { name: 'nightly', manifest, cron: '0 2 * * *', tz: 'UTC' });
  const page = await s.app.inject({ url: '/queues', headers: bearer(OPERATOR) });
  asset = `/queues/${/src="(static\/js\/main\.[^"]+\.js)"/.exec(page.body)?.[1] ?? 'missing'}`;
}, 60_000);

afterAll(async () => {
  await s?.close();
  await h?.close();
});

describe('serve --queues-ui', () => {
  it('shows the board to an operator token: its page, its files, and exactly rescreen\'s queues with their counts', async () => {
    const page = await s.app.inject({ url: '/queues', headers: bearer(OPERATOR) });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('<base href="/queues/" />');
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(asset).toMatch(/^\/queues\/static\/js\/main\.\w+\.js$/);
    const js = await s.app.inject({ url: asset, headers: bearer(OPERATOR) });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);

    const queues = await boardQueues(bearer(OPERATOR));
    expect(queues.map((q) => q.name).sort()).toEqual([...QUEUES].sort());
    const counts = Object.fromEntries(queues.map((q) => [q.name, q.counts]));
    // Every job carries a priority (src/queueing/names.ts), so BullMQ keeps them as `prioritized`.
    expect(counts.ooto).toMatchObject({ prioritized: 3, active: 0, completed: 0, failed: 0 });
    expect(counts.glair).toMatchObject({ prioritized: 2, active: 0 });
    expect(counts.schedules).toMatchObject({ delayed: 1 });
    expect(Object.values(counts.notifications!).reduce((a, b) => a + b, 0)).toBe(0);
    expect(queues.every((q) => q.readOnlyMode && !q.isPaused)).toBe(true);
    // The counts are BullMQ's own, under the harness's prefix.
    expect(await s.runtime.queues.ooto!.getJobCountByTypes('prioritized')).toBe(3);

    const jobs = await s.app.inject({ url: '/queues/api/queues?activeQueue=ooto&status=prioritized&page=1&jobsPerPage=10', headers: bearer(OPERATOR) });
    const ooto = jobs.json<{ queues: (BoardQueue & { jobs: { id: string }[] })[] }>().queues.find((q) => q.name === 'ooto');
    expect(ooto?.jobs.map((j) => j.id).sort()).toEqual(['night-1#1', 'night-1#2', 'night-1#3']);
  });

  it('answers 401 without a token (the login form for a browser) and 403 to a read or reviewer token, on every part of the board', async () => {
    for (const url of ['/queues', '/queues/', '/queues/queue/ooto', '/queues/api/queues', '/queues/api/redis/stats', asset, '/queues/no-such-page']) {
      for (const headers of [{}, bearer('wrong-token-0000000000'), { authorization: OPERATOR }, { cookie: 'rescreen_queues=4102444800.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }]) {
        const res = await s.app.inject({ url, headers });
        expect(res.statusCode, `${url} ${JSON.stringify(headers)}`).toBe(401);
        expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      }
      for (const token of [READER, REVIEWER]) {
        const res = await s.app.inject({ url, headers: bearer(token) });
        expect(res.statusCode, `${url} ${token.slice(0, 4)}`).toBe(403);
        expect(res.json()).toMatchObject({ code: 'FORBIDDEN' });
      }
    }
    const browser = await s.app.inject({ url: '/queues/queue/ooto', headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(browser.statusCode).toBe(401);
    expect(browser.body).toContain('<form method="post" action="/queues/login">');
    expect(browser.body).toContain('name="next" value="/queues/queue/ooto"');
    expect((await s.app.inject({ url: '/queues/no-such-page', headers: bearer(OPERATOR) })).statusCode).toBe(404);
  });

  it('refuses every write: pause, clean, retry, add, obliterate (read-only), and the queues stay as they were', async () => {
    const before = await boardQueues(bearer(OPERATOR));
    const writes: [string, string][] = [
      ['PUT', '/queues/api/queues/pause'],
      ['PUT', '/queues/api/queues/ooto/pause'],
      ['PUT', '/queues/api/queues/ooto/clean/prioritized'],
      ['PUT', '/queues/api/queues/ooto/night-1%231/clean'],
      ['PUT', '/queues/api/queues/ooto/retry/failed'],
      ['PUT', '/queues/api/queues/ooto/empty'],
      ['PUT', '/queues/api/queues/ooto/obliterate'],
      ['POST', '/queues/api/queues/ooto/add'],
      ['PATCH', '/queues/api/queues/ooto/night-1%231/priority'],
      ['DELETE', '/queues/api/queues/ooto'],
    ];
    for (const [method, url] of writes) {
      const res = await s.app.inject({ method: method as 'PUT', url, headers: { ...bearer(OPERATOR), 'content-type': 'application/json' }, payload: {} });
      expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(403);
      expect(res.json()).toMatchObject({ code: 'FORBIDDEN', detail: expect.stringContaining('read-only') });
    }
    expect(await boardQueues(bearer(OPERATOR))).toEqual(before);
    expect(await s.runtime.queues.ooto!.isPaused()).toBe(false);
    // Opening the board's queues wrote nothing to their meta: the vendor queues keep their short event stream.
    expect(await s.runtime.redis.hget(`${h.prefix}:ooto:meta`, 'opts.maxLenEvents')).toBe('100');
    // ...and the write attempts are in the audit trail, by name.
    const audit = s.logs.map((l) => JSON.parse(l) as { audit?: boolean; who?: string; route?: string; status?: number }).filter((l) => l.audit && l.who === 'olga' && l.status === 403);
    expect(audit.length).toBeGreaterThanOrEqual(writes.length);
  });

  it('logs a browser in with a cookie that holds no token, and refuses a wrong or non-operator token', async () => {
    const ok = await login(OPERATOR);
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe('/queues/queue/ooto');
    const set = String(ok.headers['set-cookie']);
    expect(set).toMatch(/^rescreen_queues=\d+\.[\w-]{43}; Path=\/queues; Max-Age=28800; HttpOnly; SameSite=Strict$/);
    expect(set).not.toContain(OPERATOR);
    expect(set).not.toContain(Buffer.from(OPERATOR).toString('base64').slice(0, 12));
    const cookie = set.split(';')[0]!;
    expect((await boardQueues({ cookie })).map((q) => q.name).sort()).toEqual([...QUEUES].sort());
    expect((await s.app.inject({ url: '/queues', headers: { cookie } })).statusCode).toBe(200);
    expect((await s.app.inject({ url: asset, headers: { cookie } })).statusCode).toBe(200);
    // The cookie opens the board only: the API still wants the bearer header.
    expect((await s.app.inject({ url: '/api/batches', headers: { cookie } })).statusCode).toBe(401);
    // A cookie is still read-only.
    expect((await s.app.inject({ method: 'PUT', url: '/queues/api/queues/ooto/pause', headers: { cookie } })).statusCode).toBe(403);
    // An edited cookie is nobody's.
    const [expiry, mac] = cookie.slice('rescreen_queues='.length).split('.');
    for (const forged of [`${Number(expiry) + 1}.${mac}`, `${expiry}.${mac!.slice(0, -2)}AA`, `${expiry}.${mac}x`]) {
      expect((await s.app.inject({ url: '/queues/api/queues', headers: { cookie: `rescreen_queues=${forged}` } })).statusCode).toBe(401);
    }
    expect(String((await login(OPERATOR, { 'x-forwarded-proto': 'https' })).headers['set-cookie'])).toMatch(/; Secure$/);

    const wrong = await login('wrong-token-0000000000');
    expect(wrong.statusCode).toBe(401);
    expect(wrong.headers['set-cookie']).toBeUndefined();
    expect(wrong.body).toContain('That token is not valid.');
    expect(wrong.body).not.toContain('wrong-token-0000000000');
    for (const token of [READER, REVIEWER]) {
      const res = await login(token);
      expect(res.statusCode).toBe(403);
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(res.body).not.toContain(token);
    }
    // The login form itself, and logging out (the cookie is cleared).
    const form = await s.app.inject({ url: '/queues/login?next=//evil.example/x' });
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('name="next" value="/queues/"');
    const out = await s.app.inject({ url: '/queues/logout', headers: { cookie } });
    expect(out.statusCode).toBe(303);
    expect(String(out.headers['set-cookie'])).toMatch(/^rescreen_queues=; Path=\/queues; Max-Age=0; HttpOnly; SameSite=Strict$/);
  });

  it('never writes a token to the log', () => {
    const all = s.logs.join('\n');
    expect(all).toContain('/queues/login');
    for (const token of [OPERATOR, READER, REVIEWER, 'wrong-token-0000000000']) expect(all).not.toContain(token);
  });

  it('keeps /queues out of the OpenAPI document', async () => {
    const doc = (await s.app.inject({ url: '/openapi.json' })).json<{ paths: Record<string, unknown> }>();
    expect(Object.keys(doc.paths).length).toBeGreaterThan(5);
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/queues'))).toEqual([]);
  });

  it('answers 404 at /queues without --queues-ui', async () => {
    const plain = await buildServer({ runtime: s.runtime, server: serverConfig({ RESCREEN_API_TOKENS: TOKENS }), metrics: s.metrics, version: '0.0.0-test' });
    try {
      for (const url of ['/queues', '/queues/', '/queues/api/queues', '/queues/login']) {
        expect((await plain.inject({ url, headers: bearer(OPERATOR) })).statusCode, url).toBe(404);
      }
    } finally {
      await plain.close();
    }
  });
});

describe('serve --queues-ui with no token configured (loopback only)', () => {
  it('is open, like the rest of the server', async () => {
    const open = await buildServer({ runtime: s.runtime, server: serverConfig({}), metrics: s.metrics, version: '0.0.0-test', queuesUi: true });
    try {
      const res = await open.inject({ url: '/queues/api/queues' });
      expect(res.statusCode).toBe(200);
      expect(res.json<{ queues: BoardQueue[] }>().queues.map((q) => q.name).sort()).toEqual([...QUEUES].sort());
      expect((await open.inject({ url: '/queues/login' })).statusCode).toBe(303);
      expect((await open.inject({ method: 'PUT', url: '/queues/api/queues/ooto/pause' })).statusCode).toBe(403);
    } finally {
      await open.close();
    }
  });
});

describe('rescreen serve --queues-ui (the CLI, over a socket)', () => {
  /** Starts `rescreen serve --port 0 …` and waits for its start-up lines. */
  async function serve(args: string[]) {
    const child = startCli(['serve', '--port', '0', ...args], { ...h.env, LOG_LEVEL: 'warn', RESCREEN_API_TOKENS: TOKENS });
    const stderr = await eventually(async () => child.output().stderr, (e) => /listening on http:\/\/\S+:\d+.*\n/.test(e) || child.exitCode !== null, 20_000);
    const base = `http://127.0.0.1:${/listening on http:\/\/\S+:(\d+)/.exec(stderr)?.[1]}`;
    const stop = () => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : (child.on('close', () => resolve()), child.kill('SIGTERM'))));
    return { child, base, stop };
  }

  it('says where the board is, serves it to an operator (header or login cookie) and nobody else; without the flag /queues is 404', async () => {
    const ui = await serve(['--queues-ui']);
    try {
      await eventually(async () => ui.child.output().stderr, (e) => e.includes('Bull Board'), 10_000);
      expect(ui.child.output().stderr).toContain(`Bull Board (read-only) at ${ui.base}/queues — operator tokens only (1); browsers log in at ${ui.base}/queues/login`);
      expect((await fetch(`${ui.base}/queues/api/queues`)).status).toBe(401);
      expect((await fetch(`${ui.base}/queues/api/queues`, { headers: bearer(READER) })).status).toBe(403);
      const listed = await fetch(`${ui.base}/queues/api/queues`, { headers: bearer(OPERATOR) });
      expect(listed.status).toBe(200);
      expect(((await listed.json()) as { queues: BoardQueue[] }).queues.map((q) => q.name).sort()).toEqual([...QUEUES].sort());
      const login = await fetch(`${ui.base}/queues/login`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ token: OPERATOR }) });
      expect(login.status).toBe(303);
      const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
      expect(cookie).toMatch(/^rescreen_queues=\d+\.[\w-]{43}$/);
      expect((await fetch(`${ui.base}/queues/`, { headers: { cookie } })).status).toBe(200);
      expect((await fetch(`${ui.base}/queues/api/queues/ooto/pause`, { method: 'PUT', headers: { cookie } })).status).toBe(403);
    } finally {
      await ui.stop();
    }
    expect(ui.child.exitCode).toBe(0);
    expect(ui.child.output().stderr + ui.child.output().stdout).not.toContain(OPERATOR);

    const plain = await serve([]);
    try {
      expect(plain.child.output().stderr).not.toContain('Bull Board');
      expect((await fetch(`${plain.base}/queues/api/queues`, { headers: bearer(OPERATOR) })).status).toBe(404);
    } finally {
      await plain.stop();
    }
  }, 60_000);
});
