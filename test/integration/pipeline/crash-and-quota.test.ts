/**
 * At least once, nothing lost: a worker killed with SIGKILL mid-batch and a new one started finish
 * the batch with one record per line. And 429s cost no attempts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ResultRecord } from '../../../src/checks/types.js';
import { enqueueManifest } from '../../../src/queueing/producer.js';
import { startWorkers } from '../../../src/runtime/runtime.js';
import { sampleJpeg, sampleMp4 } from '../../../src/simulator/sample-media.js';
import { runCli, startCli } from '../../helpers/cli.js';
import { STORE_KINDS, createHarness, eventually, type Harness } from '../../helpers/pipeline.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe.each(STORE_KINDS)('a worker killed with SIGKILL mid-batch (%s store)', (store) => {
  it('loses nothing and duplicates no record once a new worker runs', async () => {
    // Slow enough calls (about 3 s for the batch) that the kill lands mid-batch even on a loaded box.
    h = await createHarness('crash', { latencyMs: 400 }, {}, { store });
    const lines = [];
    for (let i = 1; i <= 40; i++) {
      const name = i % 4 === 0 ? `v${i}.mp4` : `p${i}.jpg`;
      await h.file(name, i % 4 === 0 ? sampleMp4({ seed: i }) : sampleJpeg({ seed: i }));
      lines.push({ ref: name, check: i % 4 === 0 ? 'glair-video' : 'ooto-deepfake', subject: `s${i}` });
    }
    const manifest = await h.manifest('m.jsonl', lines);
    expect((await runCli(['enqueue', manifest, '--batch', 'crash'], h.env)).code).toBe(0);

    const runtime = await h.openRuntime();
    const victim = startCli(['work', '--concurrency', '3'], h.env);
    await eventually(() => runtime.store.summary('crash'), (s) => (s?.recorded ?? 0) >= 8, 30_000);
    victim.kill('SIGKILL');
    await new Promise((r) => victim.once('close', r));
    const atKill = (await runtime.store.summary('crash'))!.recorded;
    expect(atKill).toBeLessThan(40);

    // The dead worker's jobs are stalled; a new worker takes them back once their locks expire.
    const rescuer = await runCli(['work', '--until-idle'], h.env, 60_000);
    expect(rescuer.code, rescuer.stderr).toBe(0);

    const summary = (await runtime.store.summary('crash'))!;
    expect(summary).toMatchObject({ total: 40, recorded: 40, byStatus: { completed: 40, rejected: 0, failed: 0 } });
    const records: ResultRecord[] = [];
    for await (const r of runtime.store.stream('crash')) records.push(r);
    expect(records.map((r) => r.line)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    // At least once: only the calls in flight at the kill (≤ 2 vendors × concurrency 3) may repeat.
    const calls = h.sim.stats().totalCalls;
    expect(calls).toBeGreaterThanOrEqual(40);
    expect(calls).toBeLessThanOrEqual(46);
    for (const r of records) expect(await runtime.store.byTransactionId(r.transactionId!)).toEqual(r);
  });
});

describe.each(STORE_KINDS)('429 from the vendor (%s store)', (store) => {
  it('requeues jobs without spending an attempt', async () => {
    // One attempt only: if a 429 spent it, the job would end failed.
    h = await createHarness('quota', { rateLimit: { ooto: { max: 3, durationMs: 500 } } }, { RESCREEN_ATTEMPTS: '1', RESCREEN_CALL_RETRIES: '0' }, { store });
    const lines = [];
    for (let i = 1; i <= 12; i++) {
      await h.file(`p${i}.jpg`, sampleJpeg({ seed: i }));
      lines.push({ ref: `p${i}.jpg`, check: 'ooto-deepfake' });
    }
    const manifest = await h.manifest('m.jsonl', lines);
    const runtime = await h.openRuntime();
    await enqueueManifest({ manifestPath: manifest, batch: 'quota', queues: runtime.queues, checks: runtime.checks, store: runtime.store });
    const workers = startWorkers(runtime, { concurrency: 6 });
    try {
      await eventually(() => runtime.store.summary('quota'), (s) => s?.recorded === 12, 40_000);
    } finally {
      await workers.close();
    }
    const stats = h.sim.stats();
    expect(stats.rateLimited).toBeGreaterThan(0);
    const records: ResultRecord[] = [];
    for await (const r of runtime.store.stream('quota')) records.push(r);
    expect(records.every((r) => r.status === 'completed' && r.attempts === 1)).toBe(true);
  });
});

describe('SIGTERM', () => {
  it('stops taking jobs, finishes the ones in flight (every answer recorded), and exits 0 within 20 s', async () => {
    h = await createHarness('sigterm', { latencyMs: 2_000 });
    const lines = [];
    for (let i = 1; i <= 30; i++) {
      await h.file(`p${i}.jpg`, sampleJpeg({ seed: i }));
      lines.push({ ref: `p${i}.jpg`, check: 'ooto-deepfake' });
    }
    const manifest = await h.manifest('m.jsonl', lines);
    expect((await runCli(['enqueue', manifest, '--batch', 'term'], h.env)).code).toBe(0);
    const runtime = await h.openRuntime();
    const worker = startCli(['work', '--concurrency', '4'], h.env);
    // Wait until calls are in flight, then ask it to stop.
    await eventually(async () => h!.sim.stats().totalCalls, (n) => n >= 4, 20_000);
    const inFlight = h.sim.stats().totalCalls;
    const stoppedAt = Date.now();
    worker.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => worker.once('close', r));
    // The normal way a service manager stops a worker: 0 (systemd would mark a non-zero unit failed).
    expect(code, worker.output().stderr).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(20_000);
    expect(worker.output().stderr).toContain('shutting down');
    expect(worker.output().stderr).toMatch(/rescreen: interrupted — \d+ records written; \d+ jobs stay queued/);

    // Nothing was abandoned mid-call: no job is left active (a stalled one would be), every call has a record.
    expect(await runtime.queues.ooto!.getActiveCount()).toBe(0);
    const summary = (await runtime.store.summary('term'))!;
    expect(summary.recorded).toBe(h.sim.stats().totalCalls);
    // Every call that was on the wire when SIGTERM came got its answer recorded.
    expect(summary.recorded).toBeGreaterThanOrEqual(inFlight);
    expect(summary.recorded).toBeLessThan(30);
    expect(await runtime.queues.ooto!.getJobCountByTypes('waiting', 'prioritized')).toBe(30 - summary.recorded);
  });
});

describe('a job whose workers keep dying', () => {
  it('ends failed (WORKER_LOST) once BullMQ gives it up, so the line still has its record', async () => {
    // No second chance after a stall: the job a killed worker held is given up at once.
    h = await createHarness('lost', { latencyMs: 3000 }, { RESCREEN_MAX_STALLED: '0' });
    await h.file('a.jpg', sampleJpeg({ seed: 1 }));
    const manifest = await h.manifest('m.jsonl', [{ ref: 'a.jpg', check: 'ooto-deepfake' }]);
    expect((await runCli(['enqueue', manifest, '--batch', 'lost'], h.env)).code).toBe(0);
    const victim = startCli(['work'], h.env);
    await eventually(async () => h!.sim.stats().totalCalls, (n) => n >= 1, 20_000);
    victim.kill('SIGKILL');
    await new Promise((r) => victim.once('close', r));

    const rescuer = await runCli(['work', '--until-idle'], h.env, 60_000);
    expect(rescuer.code, rescuer.stderr).toBe(0);
    const runtime = await h.openRuntime();
    const record = await runtime.store.get('lost', 1);
    expect(record).toMatchObject({ status: 'failed', error: { code: 'WORKER_LOST' } });
    expect(await runtime.store.summary('lost')).toMatchObject({ recorded: 1, total: 1 });
  });
});
