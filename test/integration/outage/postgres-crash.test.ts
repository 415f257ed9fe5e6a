/**
 * Servers going away: the PostgreSQL result store crashes (an immediate shutdown: every backend
 * killed, no checkpoint) under a running `rescreen work`, stays down 8 s, and comes back with crash
 * recovery. Nothing may be lost or paid twice beyond the calls in flight, and the worker goes on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, startCli } from '../../helpers/cli.js';
import { createHarness, type Harness } from '../../helpers/pipeline.js';
import { privatePostgresUnavailable, startPrivatePostgres, type PrivatePostgres } from '../../helpers/private-postgres.js';
import { sampleJpeg } from '../../../src/simulator/sample-media.js';
import { attemptsAbove, batchLines, stopChild, until } from './outage-helpers.js';

const CONCURRENCY = 4;
const unavailable = privatePostgresUnavailable();

let h: Harness | undefined;
let server: PrivatePostgres | undefined;
let worker: ReturnType<typeof startCli> | undefined;
afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail' && worker) console.error(`worker log (tail):\n${worker.output().stderr.slice(-6000)}`);
  // Whatever happened: the worker killed, the prefix dropped, the server stopped and its folder gone.
  await stopChild(worker);
  worker = undefined;
  await h?.close();
  h = undefined;
  await server?.stop();
  server = undefined;
});

describe('the PostgreSQL store crashes under a running worker', () => {
  if (unavailable !== undefined) console.warn(`skipped: a private PostgreSQL cannot run here: ${unavailable}`);

  it.skipIf(unavailable !== undefined)(
    'down 8 s with an immediate shutdown: every line one record, only the calls in flight paid twice, the worker goes on',
    { timeout: 180_000 },
    async () => {
      server = await startPrivatePostgres();
      h = await createHarness('pg-crash', { latencyMs: 250 }, { RESCREEN_STORE_URL: `${server.url}?schema=crash`, LOG_LEVEL: 'warn' });
      for (let i = 0; i < 20; i++) await h.file(`p${i}.jpg`, sampleJpeg({ seed: i + 1 }));
      const lines = 120;
      const manifest = await h.manifest('m.jsonl', Array.from({ length: lines }, (_, i) => ({ ref: `p${i % 20}.jpg`, check: 'ooto-deepfake', subject: `s${i}` })));
      const enqueued = await runCli(['enqueue', manifest, '--batch', 'crash'], h.env);
      expect(enqueued.code, enqueued.stderr).toBe(0);

      const runtime = await h.openRuntime();
      worker = startCli(['work', '--concurrency', String(CONCURRENCY)], h.env);
      await until(() => runtime.store.summary('crash'), (s) => (s?.recorded ?? 0) >= 20, 60_000);

      await server.crash();
      const callsAtCrash = h.sim.stats().totalCalls;
      await new Promise((r) => setTimeout(r, 8_000));
      // While the store was down, no line could be checked or recorded: only the calls already on
      // their way may have reached the vendor.
      expect(h.sim.stats().totalCalls - callsAtCrash).toBeLessThanOrEqual(CONCURRENCY);
      await server.start();

      const summary = await until(() => runtime.store.summary('crash'), (s) => s?.recorded === lines, 120_000);
      expect(summary).toMatchObject({ total: lines, recorded: lines, byStatus: { completed: lines, failed: 0, rejected: 0 } });
      expect(await batchLines(runtime.store, 'crash')).toEqual(Array.from({ length: lines }, (_, i) => i + 1));
      // The outage spent no line's attempts.
      expect(await attemptsAbove(runtime.store, 'crash', 1)).toEqual([]);
      // At least once: only the calls in flight when the store went away may have been paid twice.
      const calls = h.sim.stats().totalCalls;
      expect(calls).toBeGreaterThanOrEqual(lines);
      expect(calls - lines).toBeLessThanOrEqual(CONCURRENCY);

      // It said so, in words.
      expect(worker.output().stderr).toContain('the result store does not answer');
      expect(worker.output().stderr).toContain('the result store answers again');

      // The same worker process goes on with new work.
      expect(worker.exitCode, worker.output().stderr).toBeNull();
      const more = await h.manifest('more.jsonl', Array.from({ length: 10 }, (_, i) => ({ ref: `p${i}.jpg`, check: 'ooto-deepfake', subject: `n${i}` })));
      expect((await runCli(['enqueue', more, '--batch', 'after'], h.env)).code).toBe(0);
      await until(() => runtime.store.summary('after'), (s) => s?.recorded === 10, 60_000);
      expect(h.sim.stats().totalCalls).toBe(calls + 10);
      expect(worker.exitCode).toBeNull();
    },
  );
});
