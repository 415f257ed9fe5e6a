/**
 * Scheduled re-screens against a real Redis and the simulator: BullMQ job schedulers on the
 * `schedules` queue, fired by `rescreen work`, each firing a batch `<name>-<scheduled time>`.
 */
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import type { ResultRecord } from '../../../src/checks/types.js';
import type { Runtime } from '../../../src/runtime/runtime.js';
import { startWorkers } from '../../../src/runtime/runtime.js';
import { buildDefinition } from '../../../src/schedules/definition.js';
import { fireSchedule } from '../../../src/schedules/firing.js';
import { ScheduleRepository, SCHEDULES_QUEUE } from '../../../src/schedules/repository.js';
import { ScheduleStateStore } from '../../../src/schedules/state.js';
import { sampleJpeg, sampleMp4 } from '../../../src/simulator/sample-media.js';
import { runCli, startCli } from '../../helpers/cli.js';
import { STORE_KINDS, createHarness, eventually, type Harness } from '../../helpers/pipeline.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Three lines: two OOTO photos and one GLAIR video. */
/** A cron that does not fire while a test runs, whatever the day: once a day, 12 h from now (UTC). */
function notDuringTheTest(): string {
  return `0 ${(new Date().getUTCHours() + 12) % 24} * * *`;
}

async function threeLineManifest(harness: Harness): Promise<string> {
  await harness.file('a.jpg', sampleJpeg({ seed: 1 }));
  await harness.file('b.jpg', sampleJpeg({ seed: 2 }));
  await harness.file('c.mp4', sampleMp4({ seed: 3 }));
  return harness.manifest('m.jsonl', [
    { ref: 'a.jpg', check: 'ooto-deepfake', subject: 's1' },
    { ref: 'b.jpg', subject: 's2' },
    { ref: 'c.mp4', check: 'glair-video', subject: 's3' },
  ]);
}

async function records(runtime: Runtime, batch: string): Promise<ResultRecord[]> {
  const out: ResultRecord[] = [];
  for await (const r of runtime.store.stream(batch)) out.push(r);
  return out;
}

/** Batches of a schedule, oldest first, with their summaries. */
async function batchesOf(runtime: Runtime, name: string) {
  const ids = (await runtime.store.listBatches()).filter((b) => b.startsWith(`${name}-`)).sort();
  return Promise.all(ids.map(async (id) => ({ id, summary: (await runtime.store.summary(id))! })));
}

const finished = (s: { producerDone: boolean; recorded: number; total: number }) => s.producerDone && s.recorded === s.total;

async function stop(child: ReturnType<typeof startCli>): Promise<void> {
  if (child.exitCode !== null) return;
  const closed = new Promise((r) => child.once('close', r));
  child.kill('SIGTERM');
  await closed;
}

describe.each(STORE_KINDS)('rescreen schedule (%s store)', (store) => {
  it('a schedule --every 1s fires at least twice under `rescreen work`: one batch per firing, every line recorded once', async () => {
    h = await createHarness('sched-every', {}, {}, { store });
    const manifest = await threeLineManifest(h);
    const add = await runCli(['schedule', 'add', 'fast', '--manifest', manifest, '--check', 'ooto-deepfake', '--every', '1s'], h.env);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toMatch(/^schedule fast added: every 1s, manifest .*m\.jsonl, check ooto-deepfake, overlap skip\nnext run \d{4}-/);

    const runtime = await h.openRuntime();
    const worker = startCli(['work'], h.env);
    try {
      await eventually(() => batchesOf(runtime, 'fast'), (bs) => bs.filter((b) => finished(b.summary)).length >= 2, 30_000);
      expect((await runCli(['schedule', 'remove', 'fast'], h.env)).code).toBe(0);
    } finally {
      await stop(worker);
    }
    // Stopped by our SIGTERM after a clean shutdown: 0, as a service manager expects.
    expect(worker.exitCode, worker.output().stderr).toBe(0);

    const batches = await batchesOf(runtime, 'fast');
    const done = batches.filter((b) => finished(b.summary));
    expect(done.length).toBeGreaterThanOrEqual(2);
    // Batch ids carry the scheduled slot (opts.prevMillis): slots of one `every` schedule are 1 s apart.
    const slots = batches.map((b) => Date.parse(b.id.slice('fast-'.length)));
    for (const [i, slot] of slots.entries()) {
      expect(batches[i]!.id).toMatch(/^fast-\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      if (i > 0) expect((slot - slots[0]!) % 1_000, JSON.stringify(batches.map((b) => b.id))).toBe(0);
    }
    let recordedTotal = 0;
    for (const { id, summary } of done) {
      const rs = await records(runtime, id);
      expect(rs.map((r) => r.line)).toEqual([1, 2, 3]);
      expect(rs.every((r) => r.status === 'completed' && r.batch === id)).toBe(true);
      expect(summary.total).toBe(3);
    }
    for (const { summary } of batches) recordedTotal += summary.recorded;
    // One vendor call per record: no firing or line was called twice.
    expect(h.sim.stats().totalCalls).toBe(recordedTotal);
    expect(await new ScheduleRepository(runtime.redis, h.prefix).list()).toEqual([]);
  });

  it('a cron schedule (6 fields, with a time zone) fires on its slots: batch ids at whole seconds', async () => {
    h = await createHarness('sched-cron', {}, {}, { store });
    const manifest = await threeLineManifest(h);
    const add = await runCli(['schedule', 'add', 'tick', '--manifest', manifest, '--check', 'ooto-deepfake', '--cron', '*/1 * * * * *', '--tz', 'Asia/Jakarta'], h.env);
    expect(add.code, add.stderr).toBe(0);
    const runtime = await h.openRuntime();
    const workers = startWorkers(runtime);
    try {
      await eventually(() => batchesOf(runtime, 'tick'), (bs) => bs.filter((b) => finished(b.summary)).length >= 2, 30_000);
      await new ScheduleRepository(runtime.redis, h.prefix).remove('tick');
    } finally {
      await workers.close();
    }
    for (const { id } of await batchesOf(runtime, 'tick')) expect(id).toMatch(/^tick-\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
  });

  it('schedule list shows name, rule, next run, last batch and its counts; work --until-idle ends with a schedule in place', async () => {
    h = await createHarness('sched-list', {}, {}, { store });
    const manifest = await threeLineManifest(h);
    // An `every` schedule first fires at once: that firing is due work; the next one (in 1 h) is not.
    expect((await runCli(['schedule', 'add', 'hourly', '--manifest', manifest, '--check', 'ooto-deepfake', '--every', '1h'], h.env)).code).toBe(0);
    expect((await runCli(['schedule', 'add', 'nightly', '--manifest', manifest, '--cron', '0 2 * * *', '--tz', 'Europe/Paris', '--overlap', 'allow'], h.env)).code).toBe(0);

    const work = await runCli(['work', '--until-idle'], h.env, 30_000);
    expect(work.code, work.stderr).toBe(0);

    const runtime = await h.openRuntime();
    const [hourly] = await batchesOf(runtime, 'hourly');
    expect(hourly).toBeDefined();
    expect(hourly!.summary).toMatchObject({ total: 3, recorded: 3, byStatus: { completed: 3 } });
    expect(await batchesOf(runtime, 'nightly')).toEqual([]);

    const list = await runCli(['schedule', 'list'], h.env);
    expect(list.code, list.stderr).toBe(0);
    const lines = list.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^name\s+rule\s+check\s+next run\s+last batch\s+recorded\s+completed\s+rejected\s+failed\s+last skipped\s+manifest$/);
    const hourlyRow = lines.find((l) => l.startsWith('hourly '))!;
    expect(hourlyRow).toContain('every 1h');
    expect(hourlyRow).toContain(hourly!.id);
    expect(hourlyRow).toMatch(/ 3\/3 +3 +0 +0 +- +\//);
    const nightlyRow = lines.find((l) => l.startsWith('nightly '))!;
    expect(nightlyRow).toMatch(/cron 0 2 \* \* \* \(Europe\/Paris\), overlap allowed/);
    expect(nightlyRow).toMatch(/T(00|01):00:00\.000Z/); // 02:00 in Paris is 00:00 or 01:00 UTC

    const removed = await runCli(['schedule', 'remove', 'nightly'], h.env);
    expect(removed.stdout).toContain('schedule nightly removed');
    const again = await runCli(['schedule', 'remove', 'nightly'], h.env);
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toBe('rescreen: no schedule "nightly"');
  });

  it('the same firing processed twice makes one batch and calls no vendor twice', async () => {
    h = await createHarness('sched-twice', {}, {}, { store });
    const manifest = await threeLineManifest(h);
    const runtime = await h.openRuntime();
    // A scheduler that will not fire during the test (its firings are made by hand below).
    const definition = await buildDefinition({ name: 'twice', manifest, check: 'ooto-deepfake', cron: notDuringTheTest() });
    const repo = new ScheduleRepository(runtime.redis, h.prefix);
    await repo.upsert(definition);
    const slot = Date.parse('2025-06-01T02:00:00.000Z');

    // 1. Two firing jobs of the same slot (as a retried or stalled firing would be), through the worker.
    const queue = new Queue(SCHEDULES_QUEUE, { connection: runtime.redis, prefix: h.prefix });
    await queue.add('twice', definition, { jobId: 'dup-1', prevMillis: slot, removeOnComplete: true });
    await queue.add('twice', definition, { jobId: 'dup-2', prevMillis: slot, removeOnComplete: true });
    const workers = startWorkers(runtime);
    try {
      await eventually(() => runtime.store.summary('twice-2025-06-01T02:00:00.000Z'), (s) => s !== null && finished(s), 20_000);
      await eventually(() => workers.schedules.pendingCount(), (n) => n === 0, 10_000);

      // 2. The same slot fired again in-process (as `schedule run` logic would), after the batch finished.
      const state = new ScheduleStateStore(runtime.redis, h.prefix);
      const deps = { queues: runtime.queues, checks: runtime.checks, store: runtime.store, state, log: runtime.log };
      const again = await fireSchedule(definition, new Date(slot), deps);
      expect(again).toMatchObject({ kind: 'enqueued', batch: 'twice-2025-06-01T02:00:00.000Z', enqueued: { enqueued: 0, alreadyRecorded: 3 } });
      // 3. A fresh slot fired twice at once: the second finds the first's jobs queued (or recorded).
      const other = new Date(slot + 60_000);
      const [x, y] = await Promise.all([fireSchedule(definition, other, deps), fireSchedule(definition, other, deps)]);
      expect(x.batch).toBe(y.batch);
      await eventually(() => runtime.store.summary(x.batch), (s) => s !== null && finished(s), 20_000);
    } finally {
      await workers.close();
      await queue.close();
      await repo.close();
    }
    expect(await runtime.store.listBatches()).toHaveLength(2);
    for (const batch of ['twice-2025-06-01T02:00:00.000Z', 'twice-2025-06-01T02:01:00.000Z']) {
      expect((await records(runtime, batch)).map((r) => r.line)).toEqual([1, 2, 3]);
    }
    expect(h.sim.stats().totalCalls).toBe(6);
  });

  it('`schedule add` run twice concurrently (two processes) leaves one scheduler and one pending firing', async () => {
    h = await createHarness('sched-race', {}, {}, { store });
    const manifest = await threeLineManifest(h);
    const args = ['schedule', 'add', 'race', '--manifest', manifest, '--check', 'ooto-deepfake', '--every', '1h'];
    const runs = await Promise.all([runCli(args, h.env), runCli(args, h.env), runCli(args, h.env)]);
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    const runtime = await h.openRuntime();
    const repo = new ScheduleRepository(runtime.redis, h.prefix);
    const queue = new Queue(SCHEDULES_QUEUE, { connection: runtime.redis, prefix: h.prefix });
    try {
      const all = await repo.list();
      expect(all.map((s) => s.name)).toEqual(['race']);
      expect(all[0]!.definition).toMatchObject({ name: 'race', manifest, rule: { kind: 'every', everyMs: 3_600_000 } });
      const counts = await queue.getJobCounts('wait', 'delayed', 'prioritized', 'active', 'paused');
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(1);
    } finally {
      await queue.close();
      await repo.close();
    }
  });

  it('a firing while the previous batch is still running is skipped and logged; --overlap allow and --force opt out', async () => {
    // Slow vendor, one call at a time: the first batch runs for several seconds.
    h = await createHarness('sched-overlap', { latencyMs: 1_500 }, { RESCREEN_CONCURRENCY: '1', LOG_LEVEL: 'warn' }, { store });
    const manifest = await threeLineManifest(h);
    expect((await runCli(['schedule', 'add', 'slow', '--manifest', manifest, '--check', 'ooto-deepfake', '--every', '1s'], h.env)).code).toBe(0);
    const runtime = await h.openRuntime();
    const state = new ScheduleStateStore(runtime.redis, h.prefix);
    const worker = startCli(['work'], h.env);
    let skipped;
    try {
      skipped = await eventually(() => state.get('slow'), (s) => s.lastSkip !== null, 20_000);
      expect((await runCli(['schedule', 'remove', 'slow'], h.env)).code).toBe(0);
    } finally {
      await stop(worker);
    }
    const [first] = await batchesOf(runtime, 'slow');
    expect(skipped.lastSkip).toMatchObject({ previous: first!.id });
    expect(skipped.lastSkip!.batch).not.toBe(first!.id);
    expect(Date.parse(skipped.lastSkip!.scheduledAt)).toBeGreaterThan(Date.parse(first!.id.slice('slow-'.length)));
    // The skipped firing made no batch, and it said so on stderr (a warn log line).
    expect(await runtime.store.summary(skipped.lastSkip!.batch)).toBeNull();
    expect(worker.output().stderr).toMatch(/firing skipped, previous batch slow-\S+ is still running/);

    // `schedule run` follows the same rule while a batch is running (no worker: it stays running).
    expect((await runCli(['schedule', 'add', 'manual', '--manifest', manifest, '--check', 'ooto-deepfake', '--cron', notDuringTheTest()], h.env)).code).toBe(0);
    const run1 = await runCli(['schedule', 'run', 'manual'], h.env);
    expect(run1.code, run1.stderr).toBe(0);
    expect(run1.stdout).toMatch(/^schedule manual fired: batch (manual-\S+)\n3 lines: enqueued 3, already recorded 0, already queued 0, invalid 0\n/);
    const run2 = await runCli(['schedule', 'run', 'manual'], h.env);
    expect(run2.code).toBe(1);
    expect(run2.stderr).toMatch(/^rescreen: schedule manual: skipped, previous batch manual-\S+ is still running \(0\/3 recorded\); --force fires anyway$/m);
    const forced = await runCli(['schedule', 'run', 'manual', '--force'], h.env);
    expect(forced.code, forced.stderr).toBe(0);
    // Re-adding with --overlap allow: firings no longer wait for the previous batch.
    expect((await runCli(['schedule', 'add', 'manual', '--manifest', manifest, '--check', 'ooto-deepfake', '--cron', notDuringTheTest(), '--overlap', 'allow'], h.env)).stdout).toContain(
      'schedule manual updated',
    );
    const allowed = await runCli(['schedule', 'run', 'manual'], h.env);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(await batchesOf(runtime, 'manual')).toHaveLength(3);
    const list = await runCli(['schedule', 'list'], h.env);
    expect(list.stdout).toMatch(/^manual .* 0\/3 running /m);
  });
});
