/**
 * `rescreen serve` as a child process over a real socket: the loopback-only rule without a token,
 * 401 on a non-loopback bind, graceful stop, and a 10^5-record CSV download streamed while the
 * server's resident memory stays under 150 MB (sampled from /proc/<pid>/status during the download).
 *
 * The download runs with V8's heap capped (old space 64 MB, young semi-spaces 1 MB): the parsed
 * batch (~100 MB of objects) cannot fit, so a server that buffered it would die of OOM, while a
 * streaming one finishes. Uncapped, V8 lets garbage pile up in a young generation of up to 48 MB
 * and the same streaming server peaks near 200 MB RSS from a ~115 MB idle start (README: Web
 * dashboard and API, memory).
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResultRecord } from '../../../src/checks/types.js';
import { openRuntime } from '../../../src/app/index.js';
import { createLogger } from '../../../src/log/logger.js';
import { runCli, startCli } from '../../helpers/cli.js';
import { createHarness, eventually, type Harness } from '../../helpers/pipeline.js';

const TOKEN = 'sock-token-4e8a1c7b9d2f6e30';
const RECORDS = 100_000;
let h: Harness;

beforeAll(async () => {
  h = await createHarness('api-socket');
});
afterAll(async () => {
  await h?.close();
});

/** Starts `rescreen serve --port 0` and waits for its "listening on" line. */
async function serve(args: string[], env: Record<string, string> = {}) {
  const child = startCli(['serve', '--port', '0', ...args], { ...h.env, LOG_LEVEL: 'warn', ...env });
  const line = await eventually(async () => child.output().stderr, (e) => /listening on http:\/\/\S+:\d+/.test(e) || child.exitCode !== null, 20_000);
  const port = Number(/listening on http:\/\/\S+:(\d+)/.exec(line)?.[1]);
  return { child, port, base: `http://127.0.0.1:${port}` };
}

async function stop(child: ReturnType<typeof startCli>): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  child.kill('SIGTERM');
  return new Promise((resolve) => child.on('close', (code) => resolve(code)));
}

function rssBytes(pid: number): Promise<number> {
  return readFile(`/proc/${pid}/status`, 'utf8').then((s) => Number(/VmRSS:\s+(\d+) kB/.exec(s)?.[1] ?? 0) * 1024);
}

describe('rescreen serve over a socket', () => {
  it('refuses a non-loopback bind without a token, naming the variable', async () => {
    const r = await runCli(['serve', '--host', '0.0.0.0', '--port', '0'], h.env, 20_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('refusing to serve on 0.0.0.0 without a token');
    expect(r.stderr).toContain('RESCREEN_API_TOKEN');
    const bad = await runCli(['serve', '--port', '0'], { ...h.env, RESCREEN_API_TOKEN: 'short' }, 20_000);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('RESCREEN_API_TOKEN must be at least 16 characters');
    expect(bad.stderr).not.toContain('short"');
  });

  it('on 0.0.0.0 with a token: /api/* answers 401 without it and 200 with it; health stays open; SIGTERM stops it with 0', async () => {
    const { child, base } = await serve(['--host', '0.0.0.0'], { RESCREEN_API_TOKEN: TOKEN });
    try {
      const anonymous = await fetch(`${base}/api/batches`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect((await anonymous.json())).toMatchObject({ code: 'UNAUTHORIZED' });
      expect((await fetch(`${base}/api/batches`, { headers: { authorization: `Bearer ${TOKEN}x` } })).status).toBe(401);
      const ok = await fetch(`${base}/api/batches`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(ok.status).toBe(200);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      expect(child.output().stderr).toContain('bearer tokens required for /api/*: token (operator)');
    } finally {
      expect(await stop(child)).toBe(0);
    }
    expect(child.output().stderr).not.toContain(TOKEN);
  });

  it(`streams a ${RECORDS}-record CSV with the server under 150 MB RSS`, async () => {
    const runtime = await openRuntime(h.config, createLogger('silent', { pretty: false }));
    const batch = 'big-csv';
    try {
      await runtime.store.beginBatch(batch, 'generated');
      // ~700 bytes of vendor answer per record: a server that held the batch in memory would pass 150 MB.
      const response = { transactionId: 'x', result: { deepfake: { score: 0.91, fine: true } }, pad: 'p'.repeat(600) };
      for (let start = 1; start <= RECORDS; start += 2_000) {
        const chunk: ResultRecord[] = [];
        for (let line = start; line < start + 2_000 && line <= RECORDS; line++) {
          chunk.push({ batch, line, subject: `s-${line % 977}`, ref: `media/${line}.jpg`, check: 'ooto-deepfake', status: 'completed', transactionId: `tx-${line}`, verdict: 'genuine', score: 0.91, error: null, attempts: 1, finishedAt: '2026-01-01T00:00:00.000Z', response });
        }
        await runtime.store.putMany(chunk);
      }
      await runtime.store.finishBatch(batch, { total: RECORDS, maxLine: RECORDS });
    } finally {
      await runtime.close();
    }
    const { child, base } = await serve([], { NODE_OPTIONS: '--max-old-space-size=64 --max-semi-space-size=1' });
    try {
      const pid = child.pid!;
      const before = await rssBytes(pid);
      let peak = before;
      const sampler = setInterval(() => void rssBytes(pid).then((r) => (peak = Math.max(peak, r))).catch(() => undefined), 25);
      const res = await fetch(`${base}/api/batches/${batch}/results?format=csv`);
      expect(res.status).toBe(200);
      let lines = 0;
      let bytes = 0;
      let tail = '';
      const decoder = new TextDecoder();
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        bytes += chunk.length;
        const text = tail + decoder.decode(chunk, { stream: true });
        const parts = text.split('\n');
        tail = parts.pop() ?? '';
        lines += parts.length;
      }
      clearInterval(sampler);
      peak = Math.max(peak, await rssBytes(pid));
      expect(lines).toBe(RECORDS + 1); // header + one row a record
      // A reader that goes away mid-download: the server stops reading the store and keeps serving.
      const controller = new AbortController();
      const cut = await fetch(`${base}/api/batches/${batch}/results?format=jsonl`, { signal: controller.signal });
      const reader = cut.body!.getReader();
      await reader.read();
      controller.abort();
      await reader.read().catch(() => undefined);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/api/batches/${batch}`)).status).toBe(200);
      console.log(`CSV download: ${RECORDS} records, ${(bytes / 1e6).toFixed(1)} MB; server RSS ${(before / 2 ** 20).toFixed(0)} MB before, peak ${(peak / 2 ** 20).toFixed(0)} MB`);
      expect(peak).toBeLessThan(150 * 2 ** 20);
    } finally {
      expect(await stop(child)).toBe(0);
    }
    expect(child.output().stderr).not.toMatch(/unexpected error|\n\s+at /);
  }, 180_000);

  // Uses the big-csv batch of the test above (same file, run in order).
  it('serves every route over the socket, and survives hostile clients (no token with a big body, a cut upload)', async () => {
    const root = join(h.dir, 'root');
    await mkdir(root, { recursive: true });
    await writeFile(join(root, 'm.jsonl'), `${JSON.stringify({ ref: 'nope.jpg', check: 'ooto-deepfake' })}\n`);
    const { child, base } = await serve(['--host', '0.0.0.0'], { RESCREEN_API_TOKEN: TOKEN, RESCREEN_SERVE_MANIFEST_ROOT: root });
    const auth = { authorization: `Bearer ${TOKEN}` };
    try {
      const gets: [string, number][] = [
        ['/', 200],
        ['/dashboard.js', 200],
        ['/dashboard.css', 200],
        ['/openapi.json', 200],
        ['/healthz', 200],
        ['/readyz', 200],
        ['/metrics', 200],
        ['/api/batches?limit=5', 200],
        ['/api/batches/big-csv', 200],
        ['/api/batches/big-csv/results?format=jsonl&status=failed', 200],
        ['/api/batches/big-csv/failures', 200],
        ['/api/records/tx-77', 200],
        ['/api/subjects/s-5?limit=3', 200],
        ['/api/schedules', 200],
        ['/api/webhooks', 200],
        ['/api/quotas', 200],
        ['/api/records/none', 404],
      ];
      for (const [url, status] of gets) expect((await fetch(`${base}${url}`, { headers: auth })).status, url).toBe(status);
      expect(await (await fetch(`${base}/api/subjects/s-5?limit=3`, { headers: auth })).json()).toMatchObject({ records: [{}, {}, {}] });
      const byPath = await fetch(`${base}/api/batches?batch=sock-path`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ path: 'm.jsonl' }) });
      expect(byPath.status).toBe(202);
      const upload = await fetch(`${base}/api/batches?batch=sock-up&dryRun=true`, { method: 'POST', headers: { ...auth, 'content-type': 'text/csv' }, body: 'ref,check\nnope.jpg,ooto-deepfake\n' });
      expect(await upload.json()).toMatchObject({ batch: 'sock-up', dryRun: true, lines: 1 });
      expect((await fetch(`${base}/api/batches/big-csv/retry`, { method: 'POST', headers: auth })).status).toBe(202);

      // 20 MB without a token: refused before the body is read.
      const big = await fetch(`${base}/api/batches`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: 'x'.repeat(20 * 2 ** 20) });
      expect(big.status).toBe(401);

      // An upload cut mid-body: nothing enqueued, no temporary file left behind, the server serves on.
      await new Promise<void>((resolve, reject) => {
        const port = new URL(base).port;
        const socket = connect(Number(port), '127.0.0.1', () => {
          socket.write(`POST /api/batches?batch=sock-cut HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TOKEN}\r\ncontent-type: application/x-ndjson\r\ncontent-length: 100000\r\n\r\n{"ref":"a.jpg","check":"ooto-deepfake"}\n`);
          setTimeout(() => {
            socket.destroy();
            resolve();
          }, 300);
        });
        socket.on('error', reject);
      });
      await eventually(async () => (await readdir(root)).filter((f) => f.startsWith('.rescreen-upload-')), (left) => left.length === 0, 5_000);
      expect((await fetch(`${base}/api/batches/sock-cut`, { headers: auth })).status).toBe(404);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
    } finally {
      expect(await stop(child)).toBe(0);
    }
    expect(child.output().stderr).not.toContain(TOKEN);
    expect(child.output().stderr).not.toMatch(/\n\s+at /);
  }, 120_000);
});
