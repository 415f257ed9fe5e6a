/**
 * Jobs of a held batch (paused, at its cap): `work --until-idle` ends instead of waiting forever and
 * says what waits and why; each job looks again after a wait that doubles (a large paused backlog
 * is cheap), and resume / raise bring the jobs back at once; `run` at a cap says so, and its
 * interrupted line says what the lines wait for.
 */
import type { Queue } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { enqueueBatch, pauseBatch, raiseBudget, resumeBatch } from '../../../src/app/index.js';
import type { JobPayload } from '../../../src/checks/types.js';
import { startWorkers, type Runtime, type WorkerHandle } from '../../../src/runtime/runtime.js';
import { sampleJpeg } from '../../../src/simulator/sample-media.js';
import { runCli, startCli } from '../../helpers/cli.js';
import { createHarness, eventually, type Harness } from '../../helpers/pipeline.js';

let h: Harness;
let runtime: Runtime;
const pools: WorkerHandle[] = [];

beforeEach(async () => {
  h = await createHarness('held', { latencyMs: 30 }, { RESCREEN_HELD_RECHECK_MS: '300', RESCREEN_CONCURRENCY: '4' });
  runtime = await h.openRuntime();
});
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
  await h.close();
});

async function manifest(name: string, lines: number): Promise<string> {
  for (let i = 1; i <= lines; i++) await h.file(`${name}/p${i}.jpg`, sampleJpeg({ seed: 700 + i, directives: 'genuine' }));
  return h.manifest(`${name}.jsonl`, Array.from({ length: lines }, (_, i) => ({ ref: `${name}/p${i + 1}.jpg`, check: 'ooto-deepfake', subject: `${name}-${i}` })));
}

/** The batch's delayed jobs: how many times each has found its batch held. */
async function looks(batch: string): Promise<number[]> {
  const queue = runtime.queues.ooto as Queue<JobPayload>;
  const jobs = await queue.getJobs(['delayed']);
  return jobs.filter((j) => j.data.batch === batch).map((j) => j.data.held ?? 0);
}

describe('held batches', () => {
  it('work --until-idle on a paused batch exits 0 within a bound, saying what waits and why, with no call', async () => {
    await enqueueBatch(runtime, { manifest: await manifest('paused', 12), batch: 'paused' });
    await pauseBatch(runtime, 'paused');
    const started = Date.now();
    const run = await runCli(['work', '--until-idle'], h.env, 60_000);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('rescreen: batch paused is paused: 12 lines wait (rescreen batch resume paused)\n');
    // Generous for a loaded machine; before, it never ended.
    expect(Date.now() - started).toBeLessThan(45_000);
    expect(h.sim.stats().totalCalls).toBe(0);
    expect((await runtime.store.summary('paused'))!.recorded).toBe(0);
  });

  it('a paused job waits twice as long at each look; resume brings every one back at once', async () => {
    await enqueueBatch(runtime, { manifest: await manifest('slow', 10), batch: 'slow' });
    await pauseBatch(runtime, 'slow');
    pools.push(startWorkers(runtime));
    // Looks at 0, 0.3, 0.9, 2.1 s: the next wait is 4.8 s.
    await eventually(() => looks('slow'), (l) => l.length === 10 && l.every((n) => n >= 4), 30_000);
    const before = await looks('slow');
    await new Promise((r) => setTimeout(r, 1_500));
    // A wait is a lower bound: in 1.5 s no job looked again (a flat 0.3 s recheck would have looked ~5 times).
    expect(await looks('slow')).toEqual(before);
    expect(h.sim.stats().totalCalls).toBe(0);

    const resumed = await resumeBatch(runtime, 'slow');
    expect(resumed.jobs).toBe(10);
    await eventually(() => runtime.store.summary('slow'), (s) => s !== null && s.recorded === 10);
    expect(h.sim.stats().totalCalls).toBe(10);
  });

  it('raise brings the jobs held at the cap back at once', async () => {
    await enqueueBatch(runtime, { manifest: await manifest('cap', 10), batch: 'cap', maxCalls: 2 });
    pools.push(startWorkers(runtime));
    await eventually(() => looks('cap'), (l) => l.length === 8 && l.every((n) => n >= 4), 30_000);
    expect(h.sim.stats().totalCalls).toBe(2);
    await raiseBudget(runtime, 'cap', { maxCalls: 10 });
    // Promoted as raise returns: none waits in `delayed` for its next look, seconds away.
    expect(await looks('cap')).toEqual([]);
    await eventually(() => runtime.store.summary('cap'), (s) => s !== null && s.recorded === 10);
    expect(h.sim.stats().totalCalls).toBe(10);
  });

  it('run at a cap says so and how to raise it; interrupted, it says what the lines wait for', async () => {
    const file = await manifest('run', 6);
    const run = startCli(['run', file, '--batch', 'run', '--max-calls', '2'], h.env);
    await eventually(
      async () => run.output().stderr,
      (err) => err.includes('rescreen: batch run is at its --max-calls cap (rescreen batch raise run --max-calls N / --max-spend X): its lines wait'),
      45_000,
    );
    const closed = new Promise((resolve) => run.once('close', resolve));
    run.kill('SIGINT');
    await closed;
    expect(run.output().stderr).toContain(
      '4 jobs stay queued (ooto 4, glair 0); batch run is at its --max-calls cap (rescreen batch raise run --max-calls N / --max-spend X): then `rescreen work` finishes them\n',
    );
    expect(run.output().stderr).not.toContain('jobs stay queued (ooto 4, glair 0): `rescreen work` finishes them');
    expect(h.sim.stats().totalCalls).toBe(2);
  });
});
