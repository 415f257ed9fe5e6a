/**
 * One side of the enqueue scenario, in its own process so its peak RSS is its own:
 *
 *   node dist/bench/enqueue-child.js <rescreen|raw> <manifest> <redisUrl> <prefix> <batch>
 *
 * - `rescreen`: `enqueueManifest` exactly as `rescreen enqueue` runs it (queues and store from
 *   `openRuntime`, default chunk size 1000 and 3 chunks in flight).
 * - `raw`: what a hand-written BullMQ producer does with the same manifest: stream the lines, JSON.parse,
 *   build the very same job (name = check, data = rescreen's payload, opts = `{jobId}` on queues with
 *   the same `defaultJobOptions`), `Queue.addBulk` per vendor queue per 1000 lines, with the same 3
 *   chunks in flight. No validation, no "already queued / already recorded" look-ups, no store.
 *
 * Prints one JSON object ({@link EnqueueChildResult}) on stdout. RSS is sampled every 20 ms; the
 * kernel's own high-water mark (getrusage maxRSS) is reported too, and the larger of the two counts.
 */
import { createReadStream } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Queue, type BulkJobOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { CheckName } from '../src/checks/registry.js';
import type { Vendor } from '../src/vendors/types.js';
import type { CheckOptions, JobPayload } from '../src/checks/types.js';
import { BUILT_INS, loadConfig } from '../src/runtime/built-ins.js';
import { createLogger } from '../src/log/logger.js';
import { enqueueManifest } from '../src/queueing/producer.js';
import { defaultJobOptions, jobId, queueName } from '../src/queueing/names.js';
import { openRuntime } from '../src/runtime/runtime.js';

export interface EnqueueChildResult {
  readonly mode: 'rescreen' | 'raw';
  readonly jobs: number;
  readonly ms: number;
  readonly jobsPerSec: number;
  /** Highest RSS seen by the 20 ms sampler, MB. */
  readonly sampledPeakRssMb: number;
  /** getrusage ru_maxrss (the kernel's high-water mark for the process, start-up included), MB. */
  readonly maxRssMb: number;
  /** RSS just before the timed part started, MB. */
  readonly startRssMb: number;
  readonly samples: number;
}

const CHUNK = 1_000;
const IN_FLIGHT = 3;
const MB = 1024 * 1024;

const [mode, manifest, redisUrl, prefix, batch] = process.argv.slice(2);
if ((mode !== 'rescreen' && mode !== 'raw') || !manifest || !redisUrl || !prefix || !batch) {
  process.stderr.write('usage: enqueue-child.js <rescreen|raw> <manifest> <redisUrl> <prefix> <batch>\n');
  process.exit(2);
}

let peakRss = 0;
let samples = 0;
const sample = (): void => {
  const rss = process.memoryUsage.rss();
  samples++;
  if (rss > peakRss) peakRss = rss;
};

const config = loadConfig({ REDIS_URL: redisUrl, RESCREEN_PREFIX: prefix, LOG_LEVEL: 'warn' });

async function runRescreen(): Promise<{ jobs: number; ms: number; startRss: number }> {
  const runtime = await openRuntime(config, createLogger(config.logLevel, { pretty: false }));
  try {
    await Promise.all(Object.values(runtime.queues).map((q) => q.waitUntilReady()));
    const startRss = process.memoryUsage.rss();
    const started = performance.now();
    const summary = await enqueueManifest({ manifestPath: resolve(manifest!), batch: batch!, queues: runtime.queues, checks: runtime.checks, store: runtime.store });
    const ms = performance.now() - started;
    if (summary.enqueued !== summary.lines) throw new Error(`rescreen enqueued ${summary.enqueued} of ${summary.lines} lines`);
    return { jobs: summary.enqueued, ms, startRss };
  } finally {
    await runtime.close();
  }
}

interface ManifestObject {
  readonly check: CheckName;
  readonly subject?: string;
  readonly ref?: string;
  readonly frames?: string[];
  readonly options?: CheckOptions;
}

type Bulk = { name: CheckName; data: JobPayload; opts: BulkJobOptions }[];

async function runRaw(): Promise<{ jobs: number; ms: number; startRss: number }> {
  const connection = new Redis(redisUrl!, { maxRetriesPerRequest: null });
  const queueOptions = { connection, prefix: prefix!, defaultJobOptions: defaultJobOptions(config.worker) };
  const vendors = BUILT_INS.vendors.map((v) => v.name);
  const queues = new Map<Vendor, Queue<JobPayload>>(vendors.map((v) => [v, new Queue<JobPayload>(queueName(v), queueOptions)]));
  const emptyChunk = () => new Map<Vendor, Bulk>(vendors.map((v) => [v, []]));
  try {
    await Promise.all([...queues.values()].map((q) => q.waitUntilReady()));
    const startRss = process.memoryUsage.rss();
    const started = performance.now();
    const baseDir = dirname(resolve(manifest!));
    const input = createReadStream(manifest!, { encoding: 'utf8', highWaterMark: 256 * 1024 });
    const lines = createInterface({ input, crlfDelay: Infinity });
    let chunk = emptyChunk();
    let inChunk = 0;
    let line = 0;
    let jobs = 0;
    const inFlight: Promise<unknown>[] = [];
    const flush = (): void => {
      const current = chunk;
      inFlight.push(Promise.all([...current].filter(([, b]) => b.length > 0).map(([v, b]) => queues.get(v)!.addBulk(b))));
      chunk = emptyChunk();
      inChunk = 0;
    };
    for await (const text of lines) {
      line++;
      const o = JSON.parse(text) as ManifestObject;
      const data: JobPayload = {
        batch: batch!,
        line,
        check: o.check,
        subject: o.subject ?? null,
        ...(o.ref !== undefined ? { ref: o.ref } : {}),
        ...(o.frames !== undefined ? { frames: o.frames } : {}),
        ...(o.options !== undefined ? { options: o.options } : {}),
        baseDir,
      };
      chunk.get(BUILT_INS.checks.vendorOf(o.check))!.push({ name: o.check, data, opts: { jobId: jobId(batch!, line) } });
      jobs++;
      if (++inChunk >= CHUNK) {
        flush();
        while (inFlight.length >= IN_FLIGHT) await inFlight.shift();
      }
    }
    if (inChunk > 0) flush();
    await Promise.all(inFlight);
    return { jobs, ms: performance.now() - started, startRss };
  } finally {
    await Promise.all([...queues.values()].map((q) => q.close()));
    await connection.quit();
  }
}

const timer = setInterval(sample, 20);
sample();
try {
  const { jobs, ms, startRss } = mode === 'rescreen' ? await runRescreen() : await runRaw();
  sample();
  clearInterval(timer);
  const result: EnqueueChildResult = {
    mode,
    jobs,
    ms: Math.round(ms),
    jobsPerSec: Math.round((jobs / ms) * 1000),
    sampledPeakRssMb: Math.round((peakRss / MB) * 10) / 10,
    maxRssMb: Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10,
    startRssMb: Math.round((startRss / MB) * 10) / 10,
    samples,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} catch (error) {
  clearInterval(timer);
  process.stderr.write(`enqueue-child (${mode}) failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
}
