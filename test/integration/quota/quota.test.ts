/**
 * The vendor quota end to end (real Redis, the simulator, the real workers): spacing that a
 * small-burst gateway accepts from three processes, a daily budget that stops exactly and resumes,
 * quota changes reaching running workers, `auto` finding an unpublished quota, crash recovery.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ResultRecord } from '../../../src/checks/types.js';
import { enqueueManifest } from '../../../src/queueing/producer.js';
import { quotaReport } from '../../../src/quota/report.js';
import { startWorkers } from '../../../src/runtime/runtime.js';
import { sampleJpeg } from '../../../src/simulator/sample-media.js';
import { runCli, startCli } from '../../helpers/cli.js';
import { awayFromMidnight, DAY_MS, fleetNow } from '../../helpers/clock.js';
import { createHarness, eventually, type Harness } from '../../helpers/pipeline.js';

/** The daily-budget test runs within one UTC day of the fleet's clock: it waits out a midnight nearer than this. */
const MIDNIGHT_MARGIN_MS = 3 * 60_000;

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** `n` ooto-deepfake lines over 20 distinct sample photos. */
async function photoManifest(harness: Harness, n: number): Promise<string> {
  for (let i = 0; i < 20; i++) await harness.file(`p${i}.jpg`, sampleJpeg({ seed: i + 1 }));
  return harness.manifest('m.jsonl', Array.from({ length: n }, (_, i) => ({ ref: `p${i % 20}.jpg`, check: 'ooto-deepfake', subject: `s${i}` })));
}

async function records(harness: Harness, batch: string): Promise<ResultRecord[]> {
  const runtime = await harness.openRuntime();
  const out: ResultRecord[] = [];
  for await (const r of runtime.store.stream(batch)) out.push(r);
  return out;
}

describe('vendor quota', () => {
  it('three worker processes against a burst-5 token bucket: 600 calls, all completed, next to no 429', { timeout: 150_000 }, async () => {
    h = await createHarness('q-bucket', { latencyMs: 100, rateLimit: { ooto: { max: 25, durationMs: 1000, window: 'token-bucket', burst: 5 } } }, { OOTO_RATE_LIMIT: '25/s' });
    const manifest = await photoManifest(h, 600);
    expect((await runCli(['enqueue', manifest, '--batch', 'bucket'], h.env)).code).toBe(0);
    const workers = [0, 1, 2].map(() => runCli(['work', '--until-idle'], h!.env, 140_000));
    const results = await Promise.all(workers);
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const stats = h.sim.stats();
    // The three processes share one schedule: paced each on its own (75/s in all), a third of the
    // calls come back 429. A worker starved of CPU for a while sends its late calls together, and
    // the vendor may refuse a few of them: that costs a pause, not a line or an attempt. The exact
    // figure (0 % on a quiet box) is measured in bench/ (BENCHMARKS.md, table (c)), not here.
    expect(stats.rateLimited).toBeLessThanOrEqual(30);
    expect(stats.callsByEndpoint['ooto-deepfake']).toBe(600 + stats.rateLimited);
    const all = await records(h, 'bucket');
    expect(all.filter((r) => r.status === 'completed')).toHaveLength(600);
    expect(all.every((r) => r.attempts === 1)).toBe(true);
  });

  it('a daily budget of 30 stops at exactly 30 paid calls; the rest wait, then go when the day turns', { timeout: 60_000 + MIDNIGHT_MARGIN_MS }, async () => {
    // Today, whatever today is: the workers' clock is the fleet's (Redis TIME, which `status` reads
    // too), so every process agrees on the day; an offset turns it without sleeping a day.
    await awayFromMidnight(MIDNIGHT_MARGIN_MS);
    h = await createHarness('q-budget', {}, { OOTO_RATE_LIMIT: '50/s,30/d', RESCREEN_QUOTA_RECHECK_MS: '200', RESCREEN_ATTEMPTS: '1' });
    const manifest = await photoManifest(h, 40);
    const runtime = await h.openRuntime();
    await enqueueManifest({ manifestPath: manifest, batch: 'budget', queues: runtime.queues, checks: runtime.checks, store: runtime.store });
    const skew = (await fleetNow()) - Date.now();
    let offset = 0;
    const clock = () => Date.now() + skew + offset;
    const tomorrow = new Date((Math.floor(clock() / DAY_MS) + 1) * DAY_MS).toISOString().slice(0, 10);
    const workers = startWorkers(runtime, { clock });
    try {
      await eventually(() => runtime.store.summary('budget'), (s) => s?.recorded === 30, 20_000);
      await new Promise((r) => setTimeout(r, 1500));
      expect(h.sim.stats().totalCalls).toBe(30);
      expect((await runtime.store.summary('budget'))?.recorded).toBe(30);
      expect(await runtime.queues.ooto!.getJobCountByTypes('waiting', 'prioritized')).toBeGreaterThan(0);
      const report = await quotaReport(runtime.redis, h.prefix, { ooto: runtime.config.vendors.ooto?.quota, glair: undefined }, { now: clock() });
      expect(report.find((r) => r.vendor === 'ooto')?.line).toContain(`ooto: quota 50/s,30/d — daily quota 30 spent; resumes ${tomorrow}T00:00Z`);
      // Another process, on its own clock: `status` reads the fleet's.
      const status = await runCli(['status', 'budget'], h.env);
      expect(status.stdout).toContain(`daily quota 30 spent; resumes ${tomorrow}T00:00Z`);

      offset = DAY_MS;
      await eventually(() => runtime.store.summary('budget'), (s) => s?.recorded === 40, 20_000);
    } finally {
      await workers.close();
    }
    const stats = h.sim.stats();
    expect(stats.totalCalls).toBe(40);
    expect(stats.rateLimited).toBe(0);
    // Waiting for the budget spent no attempt (one attempt allowed, and every line completed).
    const all = await records(h, 'budget');
    expect(all.every((r) => r.status === 'completed' && r.attempts === 1)).toBe(true);
  });

  it('`limits set` reaches running workers; `limits reset` goes back to the environment', async () => {
    h = await createHarness('q-limits', { latencyMs: 20 }, { OOTO_RATE_LIMIT: '2/s' });
    // Enough lines for 10 s at 40/s: the queue must not run dry before the quota goes back.
    const manifest = await photoManifest(h, 500);
    const runtime = await h.openRuntime();
    await enqueueManifest({ manifestPath: manifest, batch: 'limits', queues: runtime.queues, checks: runtime.checks, store: runtime.store });
    const workers = startWorkers(runtime);
    try {
      await eventually(async () => h!.sim.stats().totalCalls, (n) => n >= 2, 10_000);
      const set = await runCli(['limits', 'set', 'ooto', '40/s'], h.env);
      expect(set.code, set.stderr).toBe(0);
      // Calls in the next second. At 2/s that is 2 or 3; at 40/s, tens. The workers pick a change up
      // within 2 s (README); on a loaded box the test gives them 10.
      const perSecond = async () => {
        const before = h!.sim.stats().totalCalls;
        await new Promise((r) => setTimeout(r, 1000));
        return h!.sim.stats().totalCalls - before;
      };
      await eventually(perSecond, (n) => n > 15, 10_000);
      const shown = await runCli(['limits', 'show'], h.env);
      expect(shown.stdout).toMatch(/ooto\s+40\/s\s+rescreen limits set\s+2\/s/);
      const reset = await runCli(['limits', 'reset', 'ooto'], h.env);
      expect(reset.stdout).toContain('quota back to 2/s');
      await eventually(perSecond, (n) => n <= 4, 10_000);
      const slow = h.sim.stats().totalCalls;
      await eventually(async () => h!.sim.stats().totalCalls, (n) => n > slow, 5_000);
    } finally {
      await workers.close();
    }
    expect((await runCli(['limits', 'set', 'ooto', 'fast'], h.env)).code).toBe(2);
  });

  it('`auto` converges on an unpublished quota and keeps what it learned in Redis', async () => {
    h = await createHarness('q-auto', { latencyMs: 50, rateLimit: { ooto: { max: 20, durationMs: 1000, window: 'sliding' } } }, { OOTO_RATE_LIMIT: 'auto' });
    const manifest = await photoManifest(h, 500);
    const runtime = await h.openRuntime();
    await enqueueManifest({ manifestPath: manifest, batch: 'auto', queues: runtime.queues, checks: runtime.checks, store: runtime.store });
    const workers = startWorkers(runtime, { concurrency: 16 });
    try {
      await eventually(() => runtime.store.summary('auto'), (s) => s?.recorded === 500, 60_000);
    } finally {
      await workers.close();
    }
    const stats = h.sim.stats();
    // It found the quota: some 429s while probing, few of them, and nothing lost or failed.
    expect(stats.rateLimited).toBeGreaterThan(0);
    expect(stats.rateLimited / stats.totalCalls).toBeLessThan(0.1);
    const report = await quotaReport(runtime.redis, h.prefix, { ooto: runtime.config.vendors.ooto?.quota, glair: undefined });
    const learned = report.find((r) => r.vendor === 'ooto')!.state.learnedPerSecond!;
    expect(learned).toBeGreaterThan(12);
    expect(learned).toBeLessThan(26);
    const all = await records(h, 'auto');
    expect(all.every((r) => r.status === 'completed')).toBe(true);
  });

  it('a SIGKILLed worker’s jobs run again within 45 s with the default lock settings', { timeout: 120_000 }, async () => {
    h = await createHarness('q-crash', { latencyMs: 4000 });
    const env = { ...h.env };
    delete env.RESCREEN_LOCK_MS;
    delete env.RESCREEN_STALLED_INTERVAL_MS;
    const manifest = await photoManifest(h, 6);
    expect((await runCli(['enqueue', manifest, '--batch', 'crash'], env)).code).toBe(0);
    const victim = startCli(['work'], env);
    await eventually(async () => h!.sim.stats().totalCalls, (n) => n >= 6, 20_000);
    victim.kill('SIGKILL');
    await new Promise((r) => victim.once('close', r));
    const killedAt = Date.now();
    h.sim.configure({ latencyMs: 10 });
    const rescuer = await runCli(['work', '--until-idle'], env, 80_000);
    expect(rescuer.code, rescuer.stderr).toBe(0);
    expect(Date.now() - killedAt).toBeLessThan(45_000);
    const all = await records(h, 'crash');
    expect(all.map((r) => r.status)).toEqual(Array.from({ length: 6 }, () => 'completed'));
    // Only what was in flight at the kill was paid twice.
    expect(h.sim.stats().totalCalls).toBeLessThanOrEqual(12);
  });
});
