/**
 * Scenario (c): rate-limit utilisation. The simulator (child process) answers after 200 ms and
 * enforces an OOTO quota of L calls/s with 429 (fixed 1 s windows, Retry-After). rescreen's workers
 * run with OOTO_RATE_LIMIT=L/s and enough concurrency to fill it (≥ L × 0.2 s × 2).
 *
 * Achieved rate: the simulator's counters (`GET /__sim/stats`) are polled every 20 ms. The accepted
 * (non-429) answers, over time, climb a staircase of L per window. The rate is taken between the
 * moment the count first reaches L (the end of the first window's burst) and the moment it first
 * reaches the last whole multiple of L (the end of the last full window's burst): (k − 1) windows of
 * calls over the time they took, whatever the first and last windows' partial lengths (no fencepost).
 * A queue paused after a 429, or an idle window, lengthens that time and lowers the rate. The 429 share
 * is the simulator's 429 answers over all vendor calls.
 */
import { join } from 'node:path';
import type { SimulatorStats } from '../src/simulator/server.js';
import { benchScript, startLongChild } from './child.js';
import { fmtRatio, resetSimStats, simStats, type BenchContext, type ScenarioResult } from './common.js';
import { runRescreenSide, writePhotoManifest, writeSampleJpegs } from './e2e.js';

export const UTILISATION_TARGET = 0.95;
export const SHARE_429_TARGET = 0.01;
const LIMIT_PER_S = 40;
const LATENCY_MS = 200;
const STATS_POLL_MS = 20;

function accepted(stats: SimulatorStats): number {
  let sum = 0;
  for (const [status, count] of Object.entries(stats.responsesByStatus)) if (status !== '429') sum += count;
  return sum;
}

/**
 * Accepted calls per second between the first sample at or above L and the first at or above the last
 * whole multiple of L (see the module comment); 0 when fewer than two windows were filled.
 */
function achievedRate(points: readonly { t: number; y: number }[], final: number): { rate: number; spanS: number } {
  const windows = Math.floor(final / LIMIT_PER_S);
  const a = points.find((p) => p.y >= LIMIT_PER_S);
  const b = points.find((p) => p.y >= windows * LIMIT_PER_S);
  if (windows < 2 || a === undefined || b === undefined || b.t <= a.t) return { rate: 0, spanS: 0 };
  return { rate: ((b.y - a.y) / (b.t - a.t)) * 1000, spanS: (b.t - a.t) / 1000 };
}

export async function runRateLimitScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const seconds = ctx.quick ? 10 : 30;
  const n = LIMIT_PER_S * seconds;
  const concurrency = Math.max(16, Math.ceil(LIMIT_PER_S * (LATENCY_MS / 1000) * 2));
  const names = await writeSampleJpegs(ctx.tmpDir);
  const manifest = join(ctx.tmpDir, 'rate-limit.jsonl');
  await writePhotoManifest(manifest, names, n, 'rl');
  const sim = await startLongChild<{ url: string }>(benchScript('sim-child'), [
    JSON.stringify({ latencyMs: LATENCY_MS, rateLimit: { ooto: { max: LIMIT_PER_S, durationMs: 1000 } } }),
  ]);
  const simUrl = sim.ready.url;
  try {
    ctx.note(`(c) simulator (child) at ${simUrl}: latency ${LATENCY_MS} ms, OOTO quota ${LIMIT_PER_S}/s (429); ${n} jobs, concurrency ${concurrency}`);
    await resetSimStats(simUrl);
    const points: { t: number; y: number }[] = [];
    let polling = true;
    let pollError: Error | undefined;
    const poller = (async () => {
      while (polling) {
        const stats = await simStats(simUrl);
        points.push({ t: performance.now(), y: accepted(stats) });
        await new Promise((r) => setTimeout(r, STATS_POLL_MS));
      }
    })().catch((error: unknown) => {
      pollError = error instanceof Error ? error : new Error(String(error));
    });
    let side;
    try {
      side = await runRescreenSide(ctx, simUrl, manifest, n, concurrency, { OOTO_RATE_LIMIT: `${LIMIT_PER_S}/s` });
    } finally {
      polling = false;
      await poller;
    }
    if (pollError !== undefined) throw pollError;
    const stats = await simStats(simUrl);
    points.push({ t: performance.now(), y: accepted(stats) });
    const total = stats.callsByEndpoint['ooto-deepfake'];
    const limited = stats.rateLimited;
    const finalAccepted = accepted(stats);
    const { rate, spanS } = achievedRate(points, finalAccepted);
    const utilisation = rate / LIMIT_PER_S;
    const share = total === 0 ? 0 : limited / total;
    return {
      rows: [
        {
          scenario: `(c) vendor quota use, ${LIMIT_PER_S}/s × ${seconds} s, accepted calls/s`,
          rescreen: rate.toFixed(1),
          baseline: `${LIMIT_PER_S} (limit)`,
          ratio: fmtRatio(utilisation),
          target: `≥ ${UTILISATION_TARGET}`,
          ok: utilisation >= UTILISATION_TARGET,
        },
        {
          scenario: '(c) share of calls answered 429',
          rescreen: `${(share * 100).toFixed(2)} %`,
          baseline: '–',
          ratio: '–',
          target: `< ${SHARE_429_TARGET * 100} %`,
          ok: share < SHARE_429_TARGET,
        },
      ],
      notes: [
        `(c) ${total} vendor calls, ${finalAccepted} accepted, ${limited} answered 429; rate measured over ${spanS.toFixed(1)} s ` +
          `(${Math.floor(finalAccepted / LIMIT_PER_S) - 1} windows); the batch took ${(side.ms / 1000).toFixed(1)} s from worker start (${side.note}).`,
      ],
    };
  } finally {
    await sim.stop();
  }
}
