/**
 * Servers going away: the Redis that holds the queues and the results freezes (SIGSTOP: connections
 * stay open, nothing answers — a hung host, a paused VM) for 20 s under a running `rescreen work`,
 * then goes on (SIGCONT). Its job locks have all expired by then. Nothing may be lost or paid twice
 * beyond the calls in flight, and the worker goes on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sampleJpeg } from '../../../src/simulator/sample-media.js';
import { runCli, startCli } from '../../helpers/cli.js';
import { createHarness, type Harness } from '../../helpers/pipeline.js';
import { startPrivateRedis, type PrivateRedis } from '../../helpers/private-redis.js';
import { attemptsAbove, batchLines, stopChild, until } from './outage-helpers.js';

const CONCURRENCY = 4;

let h: Harness | undefined;
let redis: PrivateRedis | undefined;
let worker: ReturnType<typeof startCli> | undefined;
afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail' && worker) console.error(`worker log (tail):\n${worker.output().stderr.slice(-4000)}`);
  // Whatever happened: the server thawed (so nothing waits on it), the worker killed, the server gone.
  redis?.thaw();
  await stopChild(worker);
  worker = undefined;
  await h?.close();
  h = undefined;
  await redis?.stop();
  redis = undefined;
});

describe('Redis freezes under a running worker', () => {
  it('frozen 20 s with SIGSTOP: every line one record, only the calls in flight paid twice, the worker goes on', { timeout: 180_000 }, async () => {
    redis = await startPrivateRedis();
    h = await createHarness('redis-freeze', { latencyMs: 250 }, { REDIS_URL: redis.url, LOG_LEVEL: 'warn' });
    for (let i = 0; i < 20; i++) await h.file(`p${i}.jpg`, sampleJpeg({ seed: i + 1 }));
    const lines = 120;
    const manifest = await h.manifest('m.jsonl', Array.from({ length: lines }, (_, i) => ({ ref: `p${i % 20}.jpg`, check: 'ooto-deepfake', subject: `s${i}` })));
    const enqueued = await runCli(['enqueue', manifest, '--batch', 'frozen'], h.env);
    expect(enqueued.code, enqueued.stderr).toBe(0);

    const runtime = await h.openRuntime();
    worker = startCli(['work', '--concurrency', String(CONCURRENCY)], h.env);
    await until(() => runtime.store.summary('frozen'), (s) => (s?.recorded ?? 0) >= 20, 60_000);

    redis.freeze();
    const callsAtFreeze = h.sim.stats().totalCalls;
    await new Promise((r) => setTimeout(r, 20_000));
    // No job can be taken or recorded while Redis is frozen: only the calls already on their way
    // (and admitted) may have reached the vendor.
    expect(h.sim.stats().totalCalls - callsAtFreeze).toBeLessThanOrEqual(CONCURRENCY);
    redis.thaw();

    const summary = await until(() => runtime.store.summary('frozen'), (s) => s?.recorded === lines, 120_000);
    expect(summary).toMatchObject({ total: lines, recorded: lines, byStatus: { completed: lines, failed: 0, rejected: 0 } });
    expect(await batchLines(runtime.store, 'frozen')).toEqual(Array.from({ length: lines }, (_, i) => i + 1));
    // The outage spent no line's attempts.
    expect(await attemptsAbove(runtime.store, 'frozen', 1)).toEqual([]);
    // At least once: the locks of the jobs in flight expired during the freeze, so those jobs may
    // run again; a job whose record was written first is skipped, the others pay once more.
    const calls = h.sim.stats().totalCalls;
    expect(calls).toBeGreaterThanOrEqual(lines);
    expect(calls - lines).toBeLessThanOrEqual(CONCURRENCY);

    // The same worker process goes on with new work.
    expect(worker.exitCode, worker.output().stderr).toBeNull();
    const more = await h.manifest('more.jsonl', Array.from({ length: 10 }, (_, i) => ({ ref: `p${i}.jpg`, check: 'ooto-deepfake', subject: `n${i}` })));
    expect((await runCli(['enqueue', more, '--batch', 'after'], h.env)).code).toBe(0);
    await until(() => runtime.store.summary('after'), (s) => s?.recorded === 10, 60_000);
    expect(h.sim.stats().totalCalls).toBe(calls + 10);
    expect(worker.exitCode).toBeNull();
  });
});
