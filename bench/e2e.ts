/**
 * Scenario (b): end to end at zero vendor latency. The simulator runs in a child process; both sides
 * run in this process, one after the other, on the same Redis, each under its own prefix:
 *
 * - rescreen: `enqueueManifest` (not timed), then `startWorkers` with the config pointing at the
 *   simulator; timed from worker start until the batch summary says every line is recorded.
 * - bare BullMQ: jobs added with `addBulk` beforehand (not timed); one `Worker` whose processor reads
 *   the same file, POSTs it as multipart `photo` with APP-ID/APP-KEY to /api/v1.0/deepfake through an
 *   undici Pool and reads the JSON answer; `removeOnComplete`; same concurrency. Timed from worker
 *   start until the last job completed.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { Pool } from 'undici';
import { isFinished } from '../src/app/index.js';
import { createLogger } from '../src/log/logger.js';
import { enqueueManifest } from '../src/queues/producer.js';
import { openRuntime, startWorkers } from '../src/runtime/runtime.js';
import { sampleJpeg } from '../src/simulator/sample-media.js';
import type { BatchSummary } from '../src/store/types.js';
import { benchScript, startLongChild } from './child.js';
import { benchConfig, fmtInt, fmtRatio, postPhoto, simStats, sleep, type BenchContext, type ScenarioResult } from './common.js';
import { dropPrefix, freshPrefix, redisClient } from './redis-util.js';

export const E2E_RATIO_TARGET = 0.7;
/** Runs per side, alternated (bare, rescreen, bare, …); the best of each counts (the box is shared). */
const ROUNDS = 2;
const DISTINCT_FILES = 100;
const POLL_MS = 20;
const DEADLINE_MS = 180_000;

export interface SideResult {
  readonly jobs: number;
  readonly ms: number;
  readonly jobsPerSec: number;
  readonly note: string;
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
): Promise<SideResult & { readonly summary: BatchSummary }> {
  const prefix = freshPrefix('rescreen');
  const config = benchConfig(ctx.redisUrl, prefix, simUrl, { RESCREEN_CONCURRENCY: String(concurrency), ...env });
  const runtime = await openRuntime(config, createLogger(config.logLevel, { pretty: false }));
  const batch = 'bench-e2e';
  try {
    const enq = await enqueueManifest({ manifestPath: manifest, batch, queues: runtime.queues, checks: runtime.checks, store: runtime.store });
    if (enq.enqueued !== n) throw new Error(`rescreen enqueued ${enq.enqueued} of ${n}`);
    const started = performance.now();
    const handle = startWorkers(runtime, { concurrency });
    let summary: BatchSummary | null = null;
    let ms: number;
    try {
      for (;;) {
        summary = await runtime.store.summary(batch);
        if (summary && isFinished(summary)) break;
        if (performance.now() - started > DEADLINE_MS) throw new Error(`rescreen side did not finish: ${JSON.stringify(summary)}`);
        await sleep(POLL_MS);
      }
      ms = performance.now() - started;
    } finally {
      await handle.close();
    }
    if (summary === null) throw new Error('rescreen side: no batch summary');
    const { completed, rejected, failed } = summary.byStatus;
    return { jobs: n, ms, jobsPerSec: (n / ms) * 1000, note: `completed ${completed}, rejected ${rejected}, failed ${failed}`, summary };
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
): Promise<SideResult> {
  const prefix = freshPrefix('bare');
  const connection = new Redis(ctx.redisUrl, { maxRetriesPerRequest: null });
  const workerConnection = new Redis(ctx.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue<{ path: string }>('ooto', { connection, prefix });
  const http = new Pool(simUrl, { connections: concurrency });
  try {
    await addBareJobs(queue, dir, names, n);
    let completed = 0;
    let failed = 0;
    let lastError = '';
    let finish: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (finish = resolve));
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
    if (completed + failed < n) throw new Error(`bare side did not finish: ${completed} completed, ${failed} failed`);
    return { jobs: n, ms, jobsPerSec: (n / ms) * 1000, note: `completed ${completed}, failed ${failed}${failed > 0 ? ` (${lastError})` : ''}` };
  } finally {
    await http.close();
    await queue.close();
    await Promise.all([connection.quit(), workerConnection.quit()]);
    const client = redisClient(ctx.redisUrl);
    await dropPrefix(client, prefix);
    await client.quit();
  }
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
  const sim = await startLongChild<{ url: string }>(benchScript('sim-child'), [JSON.stringify({ latencyMs: 0 })]);
  const simUrl = sim.ready.url;
  try {
    ctx.note(`(b) simulator (child) at ${simUrl}, latency 0; warm-up ${warm} jobs each side`);
    await runBareSide(ctx, simUrl, ctx.tmpDir, names, warm, concurrency);
    await runRescreenSide(ctx, simUrl, warmManifest, warm, concurrency);
    const bareRuns: SideResult[] = [];
    const rescreenRuns: SideResult[] = [];
    const rounds = ctx.quick ? 1 : ROUNDS;
    for (let round = 1; round <= rounds; round++) {
      ctx.note(`(b) bare BullMQ worker ${round}/${rounds}: ${fmtInt(n)} jobs, concurrency ${concurrency}`);
      bareRuns.push(await runBareSide(ctx, simUrl, ctx.tmpDir, names, n, concurrency));
      ctx.note(`(b)   ${fmtInt(bareRuns.at(-1)!.jobsPerSec)} jobs/s`);
      ctx.note(`(b) rescreen workers ${round}/${rounds}: ${fmtInt(n)} jobs, concurrency ${concurrency}`);
      rescreenRuns.push(await runRescreenSide(ctx, simUrl, manifest, n, concurrency));
      ctx.note(`(b)   ${fmtInt(rescreenRuns.at(-1)!.jobsPerSec)} jobs/s`);
    }
    const best = (list: readonly SideResult[]): SideResult => list.reduce((a, b) => (b.jobsPerSec > a.jobsPerSec ? b : a));
    const bare = best(bareRuns);
    const rescreen = best(rescreenRuns);
    const all = (list: readonly SideResult[]): string => list.map((r) => fmtInt(r.jobsPerSec)).join(', ');
    const stats = await simStats(simUrl);
    const ratio = rescreen.jobsPerSec / bare.jobsPerSec;
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
      ],
      notes: [
        `(b) jobs/s of each run (best counts): rescreen ${all(rescreenRuns)}; bare ${all(bareRuns)}. ` +
          `Best runs: rescreen ${(rescreen.ms / 1000).toFixed(2)} s (${rescreen.note}), bare ${(bare.ms / 1000).toFixed(2)} s (${bare.note}); ` +
          `the simulator answered ${fmtInt(stats.totalCalls)} calls in all (warm-up included).`,
      ],
    };
  } finally {
    await sim.stop();
  }
}
