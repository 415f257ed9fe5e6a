/**
 * Scenario (c): vendor quota use against the gateways of the real world. The simulator (a child
 * process) answers after 200 ms and enforces an OOTO quota of 40 calls/s with 429, counted one of
 * five ways (bench/README.md): a window opened by the first call, wall-clock seconds, a sliding
 * second, a token bucket of 40, a token bucket of 5. Each kind runs with 1 and with 3 worker
 * processes, for two sides in the same run on the same Redis:
 *
 * - rescreen: `rescreen work --until-idle` processes (OOTO_RATE_LIMIT=40/s, default concurrency:
 *   auto) over a batch enqueued beforehand;
 * - BullMQ's limiter as rescreen used it before (bench/limiter-child.ts).
 *
 * From the simulator's log of the calls its quota let through: quota use = the accepted calls per
 * second after the run's first second (a cold start: new connections) ÷ 40; the 429 share = calls
 * refused ÷ all calls; the most accepted calls in any sliding second.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { request } from 'undici';
import { createLogger } from '../src/log/logger.js';
import { enqueueManifest } from '../src/queueing/producer.js';
import { openRuntime } from '../src/runtime/runtime.js';
import { SIM_CREDENTIALS } from '../src/simulator/server.js';
import type { SimRateLimit } from '../src/simulator/options.js';
import { benchScript, runJsonChild, startLongChild } from './child.js';
import { benchConfig, fmtRatio, resetSimStats, simStats, type BenchContext, type ScenarioResult } from './common.js';
import { addBareJobs, writePhotoManifest, writeSampleJpegs } from './e2e.js';
import { dropPrefix, freshPrefix, redisClient } from './redis-util.js';

export const UTILISATION_TARGET = 0.97;
export const SHARE_429_TARGET = 0.005;
const LIMIT_PER_S = 40;
const LATENCY_MS = 200;
const BIN = fileURLToPath(new URL('../../bin/rescreen.js', import.meta.url));

interface Gateway {
  readonly label: string;
  readonly limit: SimRateLimit;
}

const GATEWAYS: readonly Gateway[] = [
  { label: 'window opened by the first call', limit: { max: LIMIT_PER_S, durationMs: 1000, window: 'first-call' } },
  { label: 'wall-clock seconds', limit: { max: LIMIT_PER_S, durationMs: 1000, window: 'wall-clock' } },
  { label: 'sliding 1 s window', limit: { max: LIMIT_PER_S, durationMs: 1000, window: 'sliding' } },
  { label: `token bucket, burst ${LIMIT_PER_S}`, limit: { max: LIMIT_PER_S, durationMs: 1000, window: 'token-bucket', burst: LIMIT_PER_S } },
  { label: 'token bucket, burst 5', limit: { max: LIMIT_PER_S, durationMs: 1000, window: 'token-bucket', burst: 5 } },
];

interface Cell {
  readonly use: number;
  readonly share429: number;
  readonly maxPerSecond: number;
  readonly calls: number;
}

/** Quota use, 429 share and the fullest sliding second, from the simulator's log. */
export function measure(arrivals: readonly number[], calls: number, refused: number): Cell {
  const t = [...arrivals].sort((a, b) => a - b);
  let maxPerSecond = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while (t[i]! - t[j]! >= 1000) j++;
    maxPerSecond = Math.max(maxPerSecond, i - j + 1);
  }
  const from = (t[0] ?? 0) + 1000;
  const steady = t.filter((x) => x >= from);
  const spanS = steady.length < 2 ? 0 : (steady.at(-1)! - steady[0]!) / 1000;
  const rate = spanS === 0 ? 0 : (steady.length - 1) / spanS;
  return { use: rate / LIMIT_PER_S, share429: calls === 0 ? 0 : refused / calls, maxPerSecond, calls };
}

async function arrivalsOf(simUrl: string): Promise<number[]> {
  const res = await request(`${simUrl}/__sim/arrivals`);
  return ((await res.body.json()) as { ooto: number[] }).ooto;
}

async function configureGateway(simUrl: string, limit: SimRateLimit): Promise<void> {
  const res = await request(`${simUrl}/__sim/configure`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ rateLimit: { ooto: limit } }),
  });
  if (res.statusCode !== 200) throw new Error(`simulator refused the gateway: ${await res.body.text()}`);
  await res.body.dump();
  await resetSimStats(simUrl);
}

function runChild(args: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`${args.join(' ')} exited with ${String(code)}`))));
  });
}

async function rescreenCell(ctx: BenchContext, simUrl: string, manifest: string, n: number, processes: number, quota = `${LIMIT_PER_S}/s`): Promise<void> {
  const prefix = freshPrefix('c-rescreen');
  const extra = { OOTO_RATE_LIMIT: quota };
  const config = benchConfig(ctx.redisUrl, prefix, simUrl, extra);
  const runtime = await openRuntime(config, createLogger('warn', { pretty: false }));
  try {
    const enq = await enqueueManifest({ manifestPath: manifest, batch: 'bench-c', queues: runtime.queues, checks: runtime.checks, store: runtime.store });
    if (enq.enqueued !== n) throw new Error(`rescreen enqueued ${enq.enqueued} of ${n}`);
    const env = {
      PATH: process.env.PATH,
      REDIS_URL: ctx.redisUrl,
      RESCREEN_PREFIX: prefix,
      OOTO_BASE_URL: simUrl,
      OOTO_APP_ID: SIM_CREDENTIALS.ooto.appId,
      OOTO_APP_KEY: SIM_CREDENTIALS.ooto.appKey,
      GLAIR_BASE_URL: simUrl,
      LOG_LEVEL: 'warn',
      ...extra,
    };
    await Promise.all(Array.from({ length: processes }, () => runChild([BIN, 'work', '--until-idle', '--vendor', 'ooto'], env)));
  } finally {
    await runtime.close();
    const client = redisClient(ctx.redisUrl);
    await dropPrefix(client, prefix);
    await client.quit();
  }
}

async function limiterCell(ctx: BenchContext, simUrl: string, dir: string, names: readonly string[], n: number, processes: number): Promise<void> {
  const prefix = freshPrefix('c-bullmq');
  const client = redisClient(ctx.redisUrl);
  const queue = new Queue<{ path: string }>('ooto', { connection: client, prefix });
  try {
    await addBareJobs(queue, dir, names, n);
    const args = JSON.stringify({ redisUrl: ctx.redisUrl, prefix, simUrl, max: LIMIT_PER_S, concurrency: 16 });
    await Promise.all(Array.from({ length: processes }, () => runJsonChild(benchScript('limiter-child'), [args])));
  } finally {
    await queue.close();
    await dropPrefix(client, prefix);
    await client.quit();
  }
}

const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;

export async function runRateLimitScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const seconds = ctx.quick ? 6 : 15;
  const n = LIMIT_PER_S * seconds;
  const names = await writeSampleJpegs(ctx.tmpDir);
  const manifest = join(ctx.tmpDir, 'rate-limit.jsonl');
  await writePhotoManifest(manifest, names, n, 'rl');
  const sim = await startLongChild<{ url: string }>(benchScript('sim-child'), [JSON.stringify({ latencyMs: LATENCY_MS })]);
  const simUrl = sim.ready.url;
  const lines: string[] = [];
  let worstUse = Infinity;
  let worstShare = 0;
  let worstMax = 0;
  try {
    ctx.note(`(c) simulator (child) at ${simUrl}: latency ${LATENCY_MS} ms, OOTO quota ${LIMIT_PER_S}/s; ${n} calls per cell`);
    for (const gateway of GATEWAYS) {
      const cells: string[] = [];
      for (const processes of [1, 3]) {
        for (const side of ['rescreen', 'bullmq'] as const) {
          await configureGateway(simUrl, gateway.limit);
          const started = performance.now();
          if (side === 'rescreen') await rescreenCell(ctx, simUrl, manifest, n, processes);
          else await limiterCell(ctx, simUrl, ctx.tmpDir, names, n, processes);
          const stats = await simStats(simUrl);
          const cell = measure(await arrivalsOf(simUrl), stats.callsByEndpoint['ooto-deepfake'], stats.rateLimited);
          ctx.note(
            `(c) ${gateway.label}, ${processes} process${processes > 1 ? 'es' : ''}, ${side}: use ${fmtRatio(cell.use)}, 429 ${pct(cell.share429)}, ` +
              `fullest second ${cell.maxPerSecond} (${cell.calls} calls, ${((performance.now() - started) / 1000).toFixed(1)} s)`,
          );
          cells.push(`${cell.use.toFixed(2)} / ${pct(cell.share429)} / ${cell.maxPerSecond}`);
          if (side === 'rescreen') {
            worstUse = Math.min(worstUse, cell.use);
            worstShare = Math.max(worstShare, cell.share429);
            worstMax = Math.max(worstMax, cell.maxPerSecond);
          }
        }
      }
      lines.push(`| ${gateway.label} | ${cells.join(' | ')} |`);
    }
  } finally {
    await sim.stop();
  }
  const matrix = [
    `quota use / 429 share / most calls in any sliding second, quota ${LIMIT_PER_S}/s, ${LATENCY_MS} ms latency, ${n} calls per cell:`,
    '',
    '| vendor gateway counts by | rescreen, 1 process | BullMQ limiter, 1 process | rescreen, 3 processes | BullMQ limiter, 3 processes |',
    '|---|--:|--:|--:|--:|',
    ...lines,
  ].join('\n');
  return {
    rows: [
      {
        scenario: `(c) vendor quota use, worst of 5 gateway kinds × {1, 3} processes`,
        rescreen: fmtRatio(worstUse),
        baseline: `${LIMIT_PER_S}/s (limit)`,
        ratio: fmtRatio(worstUse),
        target: `≥ ${UTILISATION_TARGET}`,
        ok: worstUse >= UTILISATION_TARGET,
      },
      {
        scenario: '(c) share of calls answered 429, worst cell',
        rescreen: pct(worstShare),
        baseline: '–',
        ratio: '–',
        target: `< ${SHARE_429_TARGET * 100} %`,
        ok: worstShare < SHARE_429_TARGET,
      },
      {
        scenario: '(c) most calls in any sliding second, worst cell',
        rescreen: String(worstMax),
        baseline: `${LIMIT_PER_S} (limit)`,
        ratio: '–',
        target: `≤ ${LIMIT_PER_S + 1}`,
        ok: worstMax <= LIMIT_PER_S + 1,
      },
    ],
    notes: [],
    sections: [matrix],
  };
}

const HIDDEN_PER_S = 20;
export const AUTO_USE_TARGET = 0.9;
export const AUTO_429_TARGET = 0.02;

/**
 * Scenario (d): `OOTO_RATE_LIMIT=auto` against a vendor whose quota (20/s, sliding window) is not
 * told to rescreen. 5 minutes (--quick: 90 s); quota use after the first minute (--quick: 30 s),
 * 429 share over the whole run.
 */
export async function runAutoScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const seconds = ctx.quick ? 90 : 300;
  const settleS = ctx.quick ? 30 : 60;
  const n = HIDDEN_PER_S * seconds;
  const names = await writeSampleJpegs(ctx.tmpDir);
  const manifest = join(ctx.tmpDir, 'auto.jsonl');
  await writePhotoManifest(manifest, names, n, 'auto');
  const sim = await startLongChild<{ url: string }>(benchScript('sim-child'), [JSON.stringify({ latencyMs: LATENCY_MS })]);
  const simUrl = sim.ready.url;
  try {
    await configureGateway(simUrl, { max: HIDDEN_PER_S, durationMs: 1000, window: 'sliding' });
    ctx.note(`(d) hidden quota ${HIDDEN_PER_S}/s (sliding), OOTO_RATE_LIMIT=auto, ${n} calls, about ${seconds} s`);
    await rescreenCell(ctx, simUrl, manifest, n, 1, 'auto');
    const stats = await simStats(simUrl);
    const t = (await arrivalsOf(simUrl)).sort((a, b) => a - b);
    const from = (t[0] ?? 0) + settleS * 1000;
    const after = t.filter((x) => x >= from);
    const rate = after.length < 2 ? 0 : (after.length - 1) / ((after.at(-1)! - after[0]!) / 1000);
    const use = rate / HIDDEN_PER_S;
    const share = stats.totalCalls === 0 ? 0 : stats.rateLimited / stats.totalCalls;
    return {
      rows: [
        {
          scenario: `(d) auto vs a hidden ${HIDDEN_PER_S}/s, quota use after ${settleS} s`,
          rescreen: fmtRatio(use),
          baseline: `${HIDDEN_PER_S}/s (hidden)`,
          ratio: fmtRatio(use),
          target: `≥ ${AUTO_USE_TARGET}`,
          ok: use >= AUTO_USE_TARGET,
        },
        {
          scenario: '(d) auto: share of calls answered 429',
          rescreen: pct(share),
          baseline: '–',
          ratio: '–',
          target: `≤ ${AUTO_429_TARGET * 100} %`,
          ok: share <= AUTO_429_TARGET,
        },
      ],
      notes: [`(d) ${stats.totalCalls} calls, ${stats.rateLimited} answered 429, ${rate.toFixed(1)} calls/s after ${settleS} s over ${((t.at(-1)! - from) / 1000).toFixed(0)} s`],
    };
  } finally {
    await sim.stop();
  }
}
