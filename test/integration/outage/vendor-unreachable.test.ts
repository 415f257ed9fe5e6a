/**
 * Issue 16, a new user's run: with no route to a vendor (every connection refused), `work
 * --until-idle` used to spend 5 attempts on every line and exit 0 with all of them VENDOR_CONNECTION.
 * Now its lines stay queued with no attempt spent and nothing paid, the other vendor's lines finish,
 * and once the breaker has been open longer than RESCREEN_BREAKER_ALERT_MS (short here) with only
 * that vendor's jobs left, it exits 2 with one line saying so. `status`, `/readyz` and the metrics
 * say it too. A worker that can reach the vendor later sends every line, each on its first attempt.
 */
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { batchBudget, batchSummary, createMetrics, pendingJobs } from '../../../src/app/index.js';
import { buildOpsServer } from '../../../src/server/index.js';
import { sampleJpeg } from '../../../src/simulator/sample-media.js';
import { runCli } from '../../helpers/cli.js';
import { createHarness, type Harness } from '../../helpers/pipeline.js';
import { startVendorStandIn, type VendorStandIn } from '../../helpers/vendor-stand-in.js';

let h: Harness | undefined;
let standIn: VendorStandIn | undefined;
afterEach(async () => {
  await standIn?.close();
  await h?.close();
  h = undefined;
  standIn = undefined;
});

/** A port nothing listens on: every connection to it is refused. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const ALERT = { RESCREEN_BREAKER_ALERT_MS: '4000', RESCREEN_BREAKER_BASE_MS: '500', RESCREEN_BREAKER_MAX_MS: '2000' };

describe('a vendor with no route to it', () => {
  it('work --until-idle keeps its lines queued, finishes the others and exits 2 once the breaker outlasts the alert; status, /readyz and metrics say so', async () => {
    standIn = await startVendorStandIn();
    const unreachable = `http://127.0.0.1:${await closedPort()}`;
    h = await createHarness('unreachable', {}, { OOTO_BASE_URL: unreachable, GLAIR_BASE_URL: standIn.url, LOG_LEVEL: 'info', ...ALERT });
    const lines: unknown[] = [];
    for (let i = 0; i < 6; i++) lines.push({ ref: await h.file(`p${i}.jpg`, sampleJpeg({ seed: i + 1 })), check: 'ooto-deepfake' });
    for (let i = 0; i < 4; i++) lines.push({ frames: [await h.file(`f${i}.jpg`, sampleJpeg({ seed: 50 + i }))], check: 'glair-frames' });
    const manifest = await h.manifest('m.jsonl', lines);
    expect((await runCli(['enqueue', manifest, '--batch', 'nr'], h.env)).code).toBe(0);

    const started = Date.now();
    const work = await runCli(['work', '--until-idle'], h.env, 90_000);
    const tookMs = Date.now() - started;
    expect(work.signal).toBeNull();
    expect(work.code).toBe(2);
    // Not before the alert setting (4 s), and not forever.
    expect(tookMs).toBeGreaterThanOrEqual(4_000);
    const said = work.stderr.split('\n').filter((l) => l.startsWith('rescreen: '));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(
      /^rescreen: ooto: unreachable for \d+ s, longer than RESCREEN_BREAKER_ALERT_MS \(4 s\) \(since .*, last VENDOR_CONNECTION\): its calls are held, its lines stay queued with no attempt spent; .*\. 6 jobs stay queued: `rescreen work` sends them once OOTO answers \(check OOTO_BASE_URL and the route to it\)$/,
    );
    const log = work.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: string; vendor?: string; breaker?: string });
    expect(log.filter((l) => l.breaker === 'open').map((l) => l.vendor)).toEqual(['ooto']);
    expect(log.filter((l) => l.breaker === 'alert').map((l) => [l.vendor, l.level])).toEqual([['ooto', 'error']]);

    const runtime = await h.openRuntime();
    const summary = await batchSummary(runtime, 'nr');
    expect(summary).toMatchObject({ recorded: 4, byStatus: { completed: 4 } });
    expect(await pendingJobs(runtime)).toMatchObject({ ooto: 6, glair: 0 });
    // No attempt spent, nothing paid for OOTO.
    const jobs = await runtime.queues.ooto!.getJobs(['wait', 'delayed', 'prioritized']);
    expect(jobs.map((j) => j.attemptsMade)).toEqual([0, 0, 0, 0, 0, 0]);
    const { paidCalls } = await batchBudget(runtime, summary);
    expect([paidCalls.ooto ?? 0, paidCalls.glair]).toEqual([0, 4]);

    // `status` (another process, the same alert setting) says it once; /readyz is not ready; the gauges show it.
    const status = await runCli(['status', 'nr'], h.env);
    expect(status.stdout.match(/ooto: unreachable for/g)).toHaveLength(1);
    expect(status.stdout).toMatch(/ooto: unreachable for \d+ s, longer than RESCREEN_BREAKER_ALERT_MS \(4 s\)/);
    const metrics = createMetrics(runtime);
    const app = await buildOpsServer(runtime, metrics);
    try {
      const ready = await app.inject({ url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toMatchObject({ ready: false, checks: { redis: { ok: true }, store: { ok: true }, vendors: { ok: false } } });
      expect(ready.json<{ checks: { vendors: { error: string } } }>().checks.vendors.error).toMatch(/^ooto: unreachable for \d+ s, longer than RESCREEN_BREAKER_ALERT_MS/);
      const text = (await app.inject({ url: '/metrics' })).body;
      expect(text).toContain('rescreen_vendor_breaker_open{vendor="ooto"} 1');
      expect(text).toContain('rescreen_vendor_breaker_alert{vendor="ooto"} 1');
      expect(text).toContain('rescreen_vendor_breaker_open{vendor="glair"} 0');
      expect(Number(/rescreen_vendor_breaker_open_seconds\{vendor="ooto"\} (\S+)/.exec(text)?.[1])).toBeGreaterThanOrEqual(4);
    } finally {
      await app.close();
    }

    // Once OOTO can be reached, a worker sends the lines that waited: each on its first attempt; ready again.
    const reachable = await runCli(['work', '--until-idle'], { ...h.env, OOTO_BASE_URL: standIn.url }, 60_000);
    expect(reachable.code).toBe(0);
    expect(reachable.stderr).toContain('"breaker":"closed"');
    const records = [];
    for await (const r of runtime.store.stream('nr')) records.push(r);
    expect(records.map((r) => [r.status, r.attempts])).toEqual(Array.from({ length: 10 }, () => ['completed', 1]));
    const again = await buildOpsServer(runtime, createMetrics(runtime));
    try {
      expect((await again.inject({ url: '/readyz' })).statusCode).toBe(200);
    } finally {
      await again.close();
    }
  });

  it('`run` does not wait forever either: exit 2 with its summary, the unreachable vendor’s lines queued', async () => {
    standIn = await startVendorStandIn();
    h = await createHarness('unreachable-run', {}, { OOTO_BASE_URL: `http://127.0.0.1:${await closedPort()}`, GLAIR_BASE_URL: standIn.url, ...ALERT });
    const lines: unknown[] = [];
    for (let i = 0; i < 3; i++) lines.push({ ref: await h.file(`p${i}.jpg`, sampleJpeg({ seed: i + 1 })), check: 'ooto-deepfake' });
    for (let i = 0; i < 2; i++) lines.push({ frames: [await h.file(`f${i}.jpg`, sampleJpeg({ seed: 50 + i }))], check: 'glair-frames' });
    const run = await runCli(['run', await h.manifest('m.jsonl', lines), '--batch', 'nr-run'], h.env, 90_000);
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/recorded\s+2 \(3 to go\)/);
    expect(run.stderr).toMatch(/^rescreen: ooto: unreachable for \d+ s, longer than RESCREEN_BREAKER_ALERT_MS \(4 s\) .*\. 3 jobs stay queued: `rescreen work` sends them once OOTO answers/m);
    const runtime = await h.openRuntime();
    expect(await pendingJobs(runtime)).toMatchObject({ ooto: 3, glair: 0 });
  });
});
