/**
 * `rescreen work --metrics-port`: /healthz, /readyz and /metrics while a batch runs against a slow,
 * flaky, quota-bound simulator; the counters move during the run and, at the end, the vendor calls
 * they count are exactly the calls the simulator received (its own stats), 429s included.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleJpeg, sampleMp4 } from '../../../src/simulator/sample-media.js';
import { runCli, startCli } from '../../helpers/cli.js';
import { createHarness, eventually, type Harness } from '../../helpers/pipeline.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness('metrics', {
    latencyMs: 120,
    failureRate: 0.15,
    failureKinds: ['500', 'reset'],
    randomSeed: 7,
    rateLimit: { ooto: { max: 6, durationMs: 1_000 } },
  });
});
afterAll(async () => {
  await h?.close();
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** `name{labels} value` samples of one metric, as [labels, value]. */
function samples(text: string, name: string): [string, number][] {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .map((l) => {
      const m = /^[^{ ]+(\{[^}]*\})? (\S+)$/.exec(l);
      return [m?.[1] ?? '', Number(m?.[2])];
    });
}
const total = (text: string, name: string) => samples(text, name).reduce((n, [, v]) => n + v, 0);

describe('metrics and health of a worker', () => {
  it('counts every vendor call the simulator saw, by vendor, check and status class, with 429s and durations', async () => {
    const lines: unknown[] = [];
    for (let i = 0; i < 24; i++) lines.push({ ref: await h.file(`p${i}.jpg`, sampleJpeg({ seed: i + 1 })), check: 'ooto-deepfake', subject: `s${i}` });
    for (let i = 0; i < 6; i++) lines.push({ ref: await h.file(`v${i}.mp4`, sampleMp4({ seed: i + 1 })), check: 'glair-video' });
    const manifest = await h.manifest('m.jsonl', lines);
    expect((await runCli(['enqueue', manifest, '--batch', 'metrics-1'], h.env)).code).toBe(0);

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    // No OOTO_RATE_LIMIT: the worker learns of the simulator's quota only from its 429s.
    const worker = startCli(['work', '--metrics-port', String(port), '--concurrency', '4'], { ...h.env, RESCREEN_MAX_RATE_LIMITED: '1000', RESCREEN_ATTEMPTS: '8' });
    try {
      await eventually(async () => (await fetch(`${base}/healthz`).catch(() => null))?.status ?? 0, (s) => s === 200, 20_000);
      expect(await (await fetch(`${base}/readyz`)).json()).toMatchObject({ ready: true });
      const during = await eventually(async () => (await fetch(`${base}/metrics`)).text(), (t) => total(t, 'rescreen_vendor_requests_total') > 0, 20_000);
      const first = total(during, 'rescreen_vendor_requests_total');
      const runtime = await h.openRuntime();
      await eventually(async () => (await runtime.store.summary('metrics-1'))?.recorded ?? 0, (n) => n === 30, 90_000);
      const after = await (await fetch(`${base}/metrics`)).text();
      const calls = total(after, 'rescreen_vendor_requests_total');
      expect(calls).toBeGreaterThan(first); // it moved during the run
      const stats = h.sim.stats();
      expect(calls).toBe(stats.totalCalls);
      expect(total(after, 'rescreen_vendor_rate_limited_total')).toBe(stats.rateLimited);
      expect(stats.rateLimited).toBeGreaterThan(0);
      const byLabel = Object.fromEntries(samples(after, 'rescreen_vendor_requests_total'));
      const ok = (vendor: string, check: string) => byLabel[`{vendor="${vendor}",check="${check}",status_class="2xx"}`] ?? 0;
      expect(ok('ooto', 'ooto-deepfake') + ok('glair', 'glair-video')).toBe(stats.responsesByStatus['200'] ?? 0);
      for (const labels of Object.keys(byLabel)) expect(labels).toMatch(/^\{vendor="(ooto|glair)",check="(ooto-deepfake|glair-video)",status_class="(2xx|4xx|5xx|connection|timeout)"\}$/);
      expect(total(after, 'rescreen_vendor_request_duration_seconds_count')).toBe(calls);
      expect(total(after, 'rescreen_vendor_request_duration_seconds_sum')).toBeGreaterThan(calls * 0.1); // ≥ 120 ms each, mostly
      expect(total(after, 'rescreen_records_written_total')).toBe(30);
      expect(samples(after, 'rescreen_queue_jobs').map(([l]) => l)).toContain('{queue="ooto",state="waiting"}');
      expect(samples(after, 'rescreen_records')).toEqual(expect.arrayContaining([['{status="completed"}', expect.any(Number)]]));
      expect(after).toContain('rescreen_queue_oldest_waiting_seconds{queue="glair"}');
      // No high-cardinality label: no batch id, subject or transaction id anywhere.
      expect(after).not.toContain('metrics-1');
      expect(after).not.toMatch(/subject|transaction/i);
    } finally {
      worker.kill('SIGTERM');
      await new Promise((r) => worker.on('close', r));
    }
    expect(worker.output().stderr).toContain(`/metrics, /healthz, /readyz on http://127.0.0.1:${port}`);
  }, 150_000);
});
