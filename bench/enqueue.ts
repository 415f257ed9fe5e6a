/**
 * Scenario (a): enqueue a generated manifest through `enqueueManifest` vs raw `Queue.addBulk` of the
 * same jobs, each side in its own child process (own peak RSS) and under its own key prefix.
 */
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { Redis } from 'ioredis';
import { jobId } from '../src/queueing/names.js';
import { benchScript, runJsonChild } from './child.js';
import { fmtInt, fmtRatio, type BenchContext, type ScenarioResult } from './common.js';
import type { EnqueueChildResult } from './enqueue-child.js';
import { writeManifest } from './manifest-gen.js';
import { dropPrefix, freshPrefix, redisClient } from './redis-util.js';

export const ENQUEUE_RATIO_TARGET = 0.8;
export const PRODUCER_RSS_TARGET_MB = 300;
/** Runs per side, alternated (raw, rescreen, raw, …); the best of each counts (the box is shared). */
const ROUNDS = 2;

/** Job fields that must be identical on both sides (timestamps and BullMQ bookkeeping are not compared). */
const COMPARED_FIELDS = ['name', 'data', 'opts'] as const;

async function sampleJobs(client: Redis, prefix: string, batch: string, lines: readonly number[]): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const line of lines) {
    const id = jobId(batch, line);
    let hash = await client.hgetall(`${prefix}:ooto:${id}`);
    if (Object.keys(hash).length === 0) hash = await client.hgetall(`${prefix}:glair:${id}`);
    out.push(
      Object.fromEntries(COMPARED_FIELDS.map((f) => [f, f === 'name' ? hash[f] : (JSON.parse(hash[f] ?? 'null') as unknown)])),
    );
  }
  return out;
}

export async function runEnqueueScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const lines = ctx.quick ? 20_000 : 200_000;
  const manifest = join(ctx.tmpDir, 'enqueue-manifest.jsonl');
  ctx.note(`(a) generating a ${fmtInt(lines)}-line manifest`);
  await writeManifest(manifest, lines);
  const batch = 'bench-enqueue';
  const probe = [1, 2, 3, Math.floor(lines / 2), lines - 1, lines];
  const client = redisClient(ctx.redisUrl);
  const script = benchScript('enqueue-child');
  const runs: Record<'raw' | 'rescreen', EnqueueChildResult[]> = { raw: [], rescreen: [] };
  const sampled: Record<'raw' | 'rescreen', unknown[]> = { raw: [], rescreen: [] };
  const rounds = ctx.quick ? 1 : ROUNDS;
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const mode of ['raw', 'rescreen'] as const) {
        const prefix = freshPrefix(`a-${mode}`);
        ctx.note(`(a) ${mode} ${round}/${rounds}: enqueueing ${fmtInt(lines)} jobs (child process, prefix ${prefix})`);
        try {
          const result = await runJsonChild<EnqueueChildResult>(script, [mode, manifest, ctx.redisUrl, prefix, batch]);
          ctx.note(`(a)   ${fmtInt(result.jobsPerSec)} jobs/s, peak RSS ${Math.max(result.sampledPeakRssMb, result.maxRssMb).toFixed(0)} MB`);
          runs[mode].push(result);
          if (round === 1) sampled[mode] = await sampleJobs(client, prefix, batch, probe);
        } finally {
          await dropPrefix(client, prefix);
        }
      }
    }
  } finally {
    await client.quit();
  }
  if (!isDeepStrictEqual(sampled.raw, sampled.rescreen)) {
    throw new Error(`(a) the two sides did not enqueue the same jobs: ${JSON.stringify(sampled).slice(0, 2000)}`);
  }
  const best = (list: readonly EnqueueChildResult[]): EnqueueChildResult => list.reduce((a, b) => (b.jobsPerSec > a.jobsPerSec ? b : a));
  const raw = best(runs.raw);
  const rescreen = best(runs.rescreen);
  const ratio = rescreen.jobsPerSec / raw.jobsPerSec;
  // Memory: the worst of every run, not the one of the fastest.
  const peak = (list: readonly EnqueueChildResult[]): number => Math.max(...list.map((r) => Math.max(r.sampledPeakRssMb, r.maxRssMb)));
  const rss = peak(runs.rescreen);
  const rawRss = peak(runs.raw);
  const all = (list: readonly EnqueueChildResult[]): string => list.map((r) => fmtInt(r.jobsPerSec)).join(', ');
  return {
    rows: [
      {
        scenario: `(a) enqueue ${fmtInt(lines)} lines, jobs/s`,
        rescreen: fmtInt(rescreen.jobsPerSec),
        baseline: fmtInt(raw.jobsPerSec),
        ratio: fmtRatio(ratio),
        target: `≥ ${ENQUEUE_RATIO_TARGET}`,
        ok: ratio >= ENQUEUE_RATIO_TARGET,
      },
      {
        scenario: '(a) producer peak RSS',
        rescreen: `${rss.toFixed(0)} MB`,
        baseline: `${rawRss.toFixed(0)} MB`,
        ratio: '–',
        target: `< ${PRODUCER_RSS_TARGET_MB} MB`,
        ok: rss < PRODUCER_RSS_TARGET_MB,
      },
    ],
    notes: [
      `(a) jobs/s of each run (best counts): rescreen ${all(runs.rescreen)}; raw ${all(runs.raw)}. ` +
        `Peak RSS = max(20 ms sampler, getrusage maxRSS) over every run. ` +
        `Same name, data and opts on both sides (compared on ${probe.length} jobs).`,
    ],
  };
}
