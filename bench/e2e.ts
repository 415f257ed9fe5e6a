/**
 * Scenario (b): end to end at zero vendor latency. The simulator runs in a child process; both sides
 * run in this process, one after the other, on the same Redis (a private redis-server unless
 * REDIS_URL is set), each under its own prefix:
 *
 * - rescreen: `enqueueManifest` (not timed), then `startWorkers` with the config pointing at the
 *   simulator; timed from worker start until the workers have written every line's record (the
 *   batch summary is checked to say finished afterwards).
 * - bare BullMQ: jobs added with `addBulk` beforehand (not timed); one `Worker` whose processor reads
 *   the same file, POSTs it as multipart `photo` with APP-ID/APP-KEY to /api/v1.0/deepfake through an
 *   undici Pool and reads the JSON answer; `removeOnComplete`; same concurrency. Timed from worker
 *   start until the last job completed.
 *
 * For each measured run, from the workers' start to their close: Redis commands and round trips
 * sent by every connection of this process, by what they carried (./redis-count.ts), the commands
 * Redis ran (`INFO commandstats`), and the CPU time of this process and of the Redis server.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { Pool } from 'undici';
import { isFinished } from '../src/app/index.js';
import { createLogger } from '../src/log/logger.js';
import { enqueueManifest } from '../src/queueing/producer.js';
import { openRuntime, startWorkers } from '../src/runtime/runtime.js';
import { sampleJpeg } from '../src/simulator/sample-media.js';
import type { BatchSummary } from '../src/store/types.js';
import { benchScript, startLongChild } from './child.js';
import { redactUrl } from '../src/config/config.js';
import { spawnRedisServer } from '../src/redis/locate.js';
import { benchConfig, fmtInt, fmtRatio, postPhoto, simStats, sleep, type BenchContext, type Row, type ScenarioResult } from './common.js';
import { genericKey, startRedisMeter, total, type RedisUse } from './redis-count.js';
import { dropPrefix, freshPrefix, redisClient } from './redis-util.js';

export const E2E_RATIO_TARGET = 0.7;
/** Runs per side, alternated (bare, rescreen, bare, …); the best of each counts (the box is shared). */
const ROUNDS = 2;
const DISTINCT_FILES = 100;
/** How often the rescreen side looks at its workers' record count (in process, no Redis). */
const POLL_MS = 5;
const DEADLINE_MS = 180_000;

export interface SideResult {
  readonly jobs: number;
  readonly ms: number;
  readonly jobsPerSec: number;
  readonly note: string;
  /** What the side sent to Redis from its workers' start to their close (when measured). */
  readonly redis?: RedisUse;
}

/** Where a side's Redis commands are counted: the client-side counter and a connection for INFO. */
export interface RedisCounting {
  /** A connection of its own for `INFO commandstats`. */
  readonly stats: Redis;
}

/** Writes `count` distinct small JPEGs (no directive: the simulator decides from their sha256). */
export async function writeSampleJpegs(dir: string, count = DISTINCT_FILES): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = `selfie-${String(i).padStart(3, '0')}.jpg`;
    await writeFile(join(dir, name), sampleJpeg({ seed: i + 1 }));
    names.push(name);
  }
  return names;
}

/** A manifest of `n` `ooto-deepfake` lines cycling over `names` (relative to the manifest's folder). */
export async function writePhotoManifest(path: string, names: readonly string[], n: number, label: string): Promise<void> {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    lines.push(JSON.stringify({ ref: names[i % names.length], check: 'ooto-deepfake', subject: `${label}-${i % 5000}` }));
  }
  await writeFile(path, `${lines.join('\n')}\n`);
}

/** rescreen's real path: enqueueManifest, then startWorkers; timed until the summary says done. */
export async function runRescreenSide(
  ctx: BenchContext,
  simUrl: string,
  manifest: string,
  n: number,
  concurrency: number,
  env: Record<string, string> = {},
  counting?: RedisCounting,
): Promise<SideResult & { readonly summary: BatchSummary }> {
  const prefix = freshPrefix('rescreen');
  const config = benchConfig(ctx.redisUrl, prefix, simUrl, { RESCREEN_CONCURRENCY: String(concurrency), ...env });
  const runtime = await openRuntime(config, createLogger(config.logLevel, { pretty: false }));
  const batch = 'bench-e2e';
  try {
    const enq = await enqueueManifest({ manifestPath: manifest, batch, queues: runtime.queues, checks: runtime.checks, store: runtime.store });
    if (enq.enqueued !== n) throw new Error(`rescreen enqueued ${enq.enqueued} of ${n}`);
    const meter = counting ? await startRedisMeter(counting.stats, genericKey(prefix, { batch })) : undefined;
    const started = performance.now();
    const handle = startWorkers(runtime, { concurrency });
    let ms: number;
    let redis: RedisUse | undefined;
    try {
      // Done when the workers have written every line's record (counted in process, so the
      // bench's own polling adds nothing to Redis); the summary is checked once afterwards.
      while (handle.recordsWritten() < n) {
        if (performance.now() - started > DEADLINE_MS) throw new Error(`rescreen side did not finish: ${handle.recordsWritten()} of ${n} records`);
        await sleep(POLL_MS);
      }
      ms = performance.now() - started;
    } finally {
      try {
        await handle.close();
      } finally {
        redis = await meter?.stop();
      }
    }
    const summary = await runtime.store.summary(batch);
    if (summary === null || !isFinished(summary)) throw new Error(`rescreen side: ${n} records written but the batch is not finished: ${JSON.stringify(summary)}`);
    const { completed, rejected, failed } = summary.byStatus;
    return {
      jobs: n,
      ms,
      jobsPerSec: (n / ms) * 1000,
      note: `completed ${completed}, rejected ${rejected}, failed ${failed}`,
      summary,
      ...(redis ? { redis } : {}),
    };
  } finally {
    await runtime.close();
    const client = redisClient(ctx.redisUrl);
    await dropPrefix(client, prefix);
    await client.quit();
  }
}

/** `n` bare jobs (a photo path each, cycling over `names`) added with `addBulk` in chunks of 1000. */
export async function addBareJobs(queue: Queue<{ path: string }>, dir: string, names: readonly string[], n: number): Promise<void> {
  for (let start = 0; start < n; start += 1000) {
    const jobs = [];
    for (let i = start; i < Math.min(n, start + 1000); i++) {
      jobs.push({ name: 'ooto-deepfake', data: { path: join(dir, names[i % names.length]!) }, opts: { removeOnComplete: true, removeOnFail: true } });
    }
    await queue.addBulk(jobs);
  }
}

/** A bare BullMQ worker doing the same HTTP call; jobs added beforehand; timed until the last completes. */
export async function runBareSide(
  ctx: BenchContext,
  simUrl: string,
  dir: string,
  names: readonly string[],
  n: number,
  concurrency: number,
  counting?: RedisCounting,
): Promise<SideResult> {
  const prefix = freshPrefix('bare');
  const connection = new Redis(ctx.redisUrl, { maxRetriesPerRequest: null });
  const workerConnection = new Redis(ctx.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue<{ path: string }>('ooto', { connection, prefix });
  const http = new Pool(simUrl, { connections: concurrency });
  let meter: Awaited<ReturnType<typeof startRedisMeter>> | undefined;
  try {
    await addBareJobs(queue, dir, names, n);
    let completed = 0;
    let failed = 0;
    let lastError = '';
    let finish: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (finish = resolve));
    meter = counting ? await startRedisMeter(counting.stats, genericKey(prefix)) : undefined;
    const started = performance.now();
    const worker = new Worker<{ path: string }>(
      'ooto',
      async (job) => {
        const res = await postPhoto(http, job.data.path);
        const body = (await res.body.json()) as { transactionId?: string };
        if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
        return { transactionId: body.transactionId ?? null };
      },
      { connection: workerConnection, prefix, concurrency },
    );
    worker.on('completed', () => {
      if (++completed + failed >= n) finish();
    });
    worker.on('failed', (_job, error) => {
      lastError = error.message;
      if (completed + ++failed >= n) finish();
    });
    const timeout = setTimeout(finish, DEADLINE_MS);
    await done;
    clearTimeout(timeout);
    const ms = performance.now() - started;
    await worker.close();
    const redis = await meter?.stop();
    if (completed + failed < n) throw new Error(`bare side did not finish: ${completed} completed, ${failed} failed`);
    return {
      jobs: n,
      ms,
      jobsPerSec: (n / ms) * 1000,
      note: `completed ${completed}, failed ${failed}${failed > 0 ? ` (${lastError})` : ''}`,
      ...(redis ? { redis } : {}),
    };
  } finally {
    await meter?.stop().catch(() => undefined);
    await http.close();
    await queue.close();
    await Promise.all([connection.quit(), workerConnection.quit()]);
    const client = redisClient(ctx.redisUrl);
    await dropPrefix(client, prefix);
    await client.quit();
  }
}

/** Per-job figure with two decimals. */
function perJob(count: number, jobs: number): string {
  return (count / jobs).toFixed(2);
}

/**
 * A markdown table of per-job counts by name for both sides, largest first; names under 0.005 per
 * job on both sides are summed into one `other` row.
 */
function breakdown(
  heading: string,
  rescreen: ReadonlyMap<string, number>,
  rescreenJobs: number,
  bare: ReadonlyMap<string, number>,
  bareJobs: number,
): string {
  const names = [...new Set([...rescreen.keys(), ...bare.keys()])];
  const r = (name: string): number => (rescreen.get(name) ?? 0) / rescreenJobs;
  const b = (name: string): number => (bare.get(name) ?? 0) / bareJobs;
  const shown = names.filter((name) => r(name) >= 0.005 || b(name) >= 0.005).sort((x, y) => Math.max(r(y), b(y)) - Math.max(r(x), b(x)) || x.localeCompare(y));
  const rest = names.filter((name) => !shown.includes(name));
  const sum = (list: readonly string[], f: (name: string) => number): number => list.reduce((acc, name) => acc + f(name), 0);
  const diff = (x: number): string => `${x >= 0.005 ? '+' : ''}${x.toFixed(2)}`;
  const line = (label: string, x: number, y: number): string => `| ${label} | ${x.toFixed(2)} | ${y.toFixed(2)} | ${diff(x - y)} |`;
  return [
    `| ${heading} | rescreen | bare BullMQ | rescreen − bare |`,
    '|---|--:|--:|--:|',
    ...shown.map((name) => line(`\`${name}\``, r(name), b(name))),
    ...(rest.length > 0 ? [line(`other (${rest.length} kinds, each < 0.005 per job)`, sum(rest, r), sum(rest, b))] : []),
    line('**all**', sum(names, r), sum(names, b)),
    ...(rest.length > 0
      ? ['', `other, per job (rescreen / bare): ${rest.map((name) => `\`${name}\` ${r(name).toFixed(4)} / ${b(name).toFixed(4)}`).join('; ')}.`]
      : []),
  ].join('\n');
}

/** The rows and the breakdown section of the Redis counts of the best run of each side. */
function redisReport(rescreen: SideResult, bare: SideResult, runs: { rescreen: readonly SideResult[]; bare: readonly SideResult[] }, where: string): {
  rows: Row[];
  notes: string[];
  sections: string[];
} {
  const r = rescreen.redis;
  const b = bare.redis;
  if (r === undefined || b === undefined) return { rows: [], notes: [], sections: [] };
  const row = (scenario: string, x: number, y: number): Row => ({
    scenario,
    rescreen: perJob(x, rescreen.jobs),
    baseline: perJob(y, bare.jobs),
    ratio: fmtRatio(x / rescreen.jobs / (y / bare.jobs)),
    target: '–',
  });
  const cpuRow = (scenario: string, x: number, y: number): Row => ({
    ...row(scenario, x, y),
    rescreen: (x / rescreen.jobs).toFixed(3),
    baseline: (y / bare.jobs).toFixed(3),
  });
  const trips = (list: readonly SideResult[]): string => list.map((s) => (s.redis ? perJob(s.redis.client.roundTrips, s.jobs) : '?')).join(', ');
  return {
    rows: [
      row('(b) Redis round trips per job (client-side)', r.client.roundTrips, b.client.roundTrips),
      row('(b) Redis commands sent per job (client-side)', r.client.commands, b.client.commands),
      row('(b) Redis commands run per job (INFO commandstats, inside scripts too)', total(r.server), total(b.server)),
      cpuRow('(b) CPU per job, worker process (user + system), ms', r.processCpuMs, b.processCpuMs),
      cpuRow('(b) CPU per job, Redis server (INFO cpu), ms', r.redisCpuMs, b.redisCpuMs),
    ],
    notes: [`(b) Redis round trips per job of each run: rescreen ${trips(runs.rescreen)}; bare ${trips(runs.bare)}. Redis: ${where}.`],
    sections: [
      `### (b) Redis per job, by what was sent\n\n` +
        `Best run of each side, from the workers' start to their close, divided by the jobs (${fmtInt(rescreen.jobs)}). ` +
        `Round trips are counted in the worker process on every ioredis connection it uses (a pipeline or MULTI/EXEC is one, ` +
        `an EVALSHA is one and is named after its script); \`<p>\` is the side's key prefix, \`<batch>\` the batch, \`<n>\` a number. ` +
        `Redis: ${where}.\n\n` +
        `${breakdown('round trip (what it carried)', r.client.byRoundTrip, rescreen.jobs, b.client.byRoundTrip, bare.jobs)}\n\n` +
        `Commands Redis ran (\`INFO commandstats\` before and after; the commands a Lua script runs count too):\n\n` +
        breakdown('command', r.server, rescreen.jobs, b.server, bare.jobs),
    ],
  };
}

export async function runE2eScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const n = ctx.quick ? 2_000 : 20_000;
  const warm = ctx.quick ? 300 : 1_000;
  const concurrency = 16;
  const names = await writeSampleJpegs(ctx.tmpDir);
  const manifest = join(ctx.tmpDir, 'e2e.jsonl');
  const warmManifest = join(ctx.tmpDir, 'e2e-warm.jsonl');
  await writePhotoManifest(manifest, names, n, 'e2e');
  await writePhotoManifest(warmManifest, names, warm, 'warm');
  // A Redis of its own (unless REDIS_URL names one), so INFO commandstats counts only this scenario's
  // commands and other users of a shared Redis slow neither side.
  const own = process.env.REDIS_URL?.trim() ? undefined : await spawnRedisServer();
  const redisUrl = own?.url ?? ctx.redisUrl;
  const where = own ? 'a private redis-server started for (b)' : `${redactUrl(redisUrl)}, shared: INFO commandstats counts its other clients too`;
  const bctx: BenchContext = { ...ctx, redisUrl };
  const counting: RedisCounting = { stats: redisClient(redisUrl) };
  const sim = await startLongChild<{ url: string }>(benchScript('sim-child'), [JSON.stringify({ latencyMs: 0 })]);
  const simUrl = sim.ready.url;
  try {
    ctx.note(`(b) simulator (child) at ${simUrl}, latency 0; Redis: ${where}; warm-up ${warm} jobs each side`);
    await runBareSide(bctx, simUrl, ctx.tmpDir, names, warm, concurrency);
    await runRescreenSide(bctx, simUrl, warmManifest, warm, concurrency);
    const bareRuns: SideResult[] = [];
    const rescreenRuns: SideResult[] = [];
    const rounds = ctx.quick ? 1 : ROUNDS;
    const trips = (side: SideResult): string => (side.redis ? `, ${perJob(side.redis.client.roundTrips, side.jobs)} Redis round trips/job` : '');
    for (let round = 1; round <= rounds; round++) {
      ctx.note(`(b) bare BullMQ worker ${round}/${rounds}: ${fmtInt(n)} jobs, concurrency ${concurrency}`);
      bareRuns.push(await runBareSide(bctx, simUrl, ctx.tmpDir, names, n, concurrency, counting));
      ctx.note(`(b)   ${fmtInt(bareRuns.at(-1)!.jobsPerSec)} jobs/s${trips(bareRuns.at(-1)!)}`);
      ctx.note(`(b) rescreen workers ${round}/${rounds}: ${fmtInt(n)} jobs, concurrency ${concurrency}`);
      rescreenRuns.push(await runRescreenSide(bctx, simUrl, manifest, n, concurrency, {}, counting));
      ctx.note(`(b)   ${fmtInt(rescreenRuns.at(-1)!.jobsPerSec)} jobs/s${trips(rescreenRuns.at(-1)!)}`);
    }
    const best = (list: readonly SideResult[]): SideResult => list.reduce((a, b) => (b.jobsPerSec > a.jobsPerSec ? b : a));
    const bare = best(bareRuns);
    const rescreen = best(rescreenRuns);
    const all = (list: readonly SideResult[]): string => list.map((r) => fmtInt(r.jobsPerSec)).join(', ');
    const stats = await simStats(simUrl);
    const ratio = rescreen.jobsPerSec / bare.jobsPerSec;
    const redis = redisReport(rescreen, bare, { rescreen: rescreenRuns, bare: bareRuns }, where);
    return {
      rows: [
        {
          scenario: `(b) end to end, latency 0, ${fmtInt(n)} jobs, jobs/s`,
          rescreen: fmtInt(rescreen.jobsPerSec),
          baseline: fmtInt(bare.jobsPerSec),
          ratio: fmtRatio(ratio),
          target: `≥ ${E2E_RATIO_TARGET}`,
          ok: ratio >= E2E_RATIO_TARGET,
        },
        ...redis.rows,
      ],
      notes: [
        `(b) jobs/s of each run (best counts): rescreen ${all(rescreenRuns)}; bare ${all(bareRuns)}. ` +
          `Best runs: rescreen ${(rescreen.ms / 1000).toFixed(2)} s (${rescreen.note}), bare ${(bare.ms / 1000).toFixed(2)} s (${bare.note}); ` +
          `the simulator answered ${fmtInt(stats.totalCalls)} calls in all (warm-up included).`,
        ...redis.notes,
      ],
      sections: redis.sections,
    };
  } finally {
    await sim.stop();
    await counting.stats.quit();
    await own?.stop();
  }
}
