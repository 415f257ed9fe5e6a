/**
 * Issue 17 acceptance: one enqueue-options schema. The same batch enqueued through the CLI, the
 * programmatic API and the HTTP API, with every option set, gets identical batch metadata (what
 * `status` and the batch view read: caps, terms, summary, state, and each job's priority and payload).
 * The options are written once below; the CLI's argv and the HTTP query are derived from them, and a
 * new option of ENQUEUE_OPTIONS fails the first test until it is given a value here.
 */
import { mkdir, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRescreen } from '../../../src/api/index.js';
import { batchStatus, createMetrics, ENQUEUE_OPTIONS, openRuntime, type EnqueueOptions, type Runtime } from '../../../src/app/index.js';
import { createLogger } from '../../../src/log/logger.js';
import { loadConfig } from '../../../src/runtime/built-ins.js';
import { buildServer } from '../../../src/server/index.js';
import { runCli } from '../../helpers/cli.js';
import { dropPrefix, freshPrefix, redisClient, redisUrl } from '../../helpers/redis.js';
import { serverConfig } from '../../helpers/server.js';

const BATCH = 'same-batch';
/** The canary set (written in beforeAll): one genuine and one deepfake canary. */
const DIR = join(tmpdir(), `rescreen-opts-${process.pid}-${Date.now()}`);
const CANARY = join(DIR, 'canary.jsonl');

/** Every option, set (dryRun apart: a dry run writes nothing to compare; see the dry-run test). */
const OPTIONS: Required<EnqueueOptions> = {
  batch: BATCH,
  check: 'ooto-deepfake',
  dryRun: false,
  maxCalls: 7,
  maxSpend: '1.25',
  priority: 80,
  dedupe: true,
  maxFailureRate: '5%',
  failureWindow: 200,
  review: 'worse,score-drop:0.3,shared',
  canary: CANARY,
  canaryThreshold: '0.05',
};

const PRICES = { OOTO_PRICE_PER_CALL: '0.02', GLAIR_PRICE_PER_CALL: '0.05' };

type Channel = 'cli' | 'api' | 'http';
const CHANNELS: readonly Channel[] = ['cli', 'api', 'http'];

/** `--batch same-batch --max-calls 7 … --dedupe`, from the options' own flags. */
function argv(options: EnqueueOptions): string[] {
  return Object.entries(options).flatMap(([name, value]) => {
    const spec = ENQUEUE_OPTIONS[name as keyof typeof ENQUEUE_OPTIONS];
    const [flag = spec.flag] = spec.flag.split(' ');
    if (spec.kind === 'flag') return value === true ? [flag] : [];
    return [flag, String(value)];
  });
}

/** `batch=same-batch&maxCalls=7&…`, the options' names as query parameters. */
function query(options: EnqueueOptions): string {
  return new URLSearchParams(Object.entries(options).map(([name, value]): [string, string] => [name, String(value)])).toString();
}

let dir: string;
let manifest: string;
const prefixes = Object.fromEntries(CHANNELS.map((c) => [c, freshPrefix(`opts-${c}`)])) as Record<Channel, string>;
const runtimes = new Map<Channel, Runtime>();
const envOf = (channel: Channel): Record<string, string> => ({ REDIS_URL: redisUrl(), RESCREEN_PREFIX: prefixes[channel], LOG_LEVEL: 'silent', ...PRICES });

beforeAll(async () => {
  await mkdir(DIR, { recursive: true });
  dir = await realpath(DIR);
  manifest = join(dir, 'manifest.jsonl');
  // No check on the lines (--check gives it); two lines share their media (--dedupe); one is invalid.
  await writeFile(manifest, ['{"ref":"a.jpg","subject":"s1"}', '{"ref":"a.jpg","subject":"s2"}', '{"ref":"b.jpg"}', '{"subject":"no ref"}'].join('\n') + '\n');
  await writeFile(CANARY, ['{"ref":"a.jpg","subject":"canary-g","expect":"genuine"}', '{"ref":"b.jpg","subject":"canary-f","expect":"deepfake"}'].join('\n') + '\n');
  for (const channel of CHANNELS) {
    const config = loadConfig(envOf(channel));
    runtimes.set(channel, await openRuntime(config, createLogger('silent', { pretty: false })));
  }
});

afterAll(async () => {
  for (const runtime of runtimes.values()) await runtime.close();
  const client = redisClient();
  for (const prefix of Object.values(prefixes)) await dropPrefix(client, prefix);
  await client.quit();
  await rm(dir, { recursive: true, force: true });
});

/** Enqueues through one channel with `options`. */
async function enqueueThrough(channel: Channel, options: EnqueueOptions): Promise<void> {
  if (channel === 'cli') {
    const run = await runCli(['enqueue', manifest, ...argv(options)], envOf(channel));
    expect(run.code, run.stderr).toBe(0);
  } else if (channel === 'api') {
    const rescreen = await createRescreen({ env: envOf(channel) });
    try {
      await rescreen.enqueue(manifest, options);
    } finally {
      await rescreen.close();
    }
  } else {
    const runtime = runtimes.get('http')!;
    const app = await buildServer({ runtime, server: serverConfig({ RESCREEN_SERVE_MANIFEST_ROOT: dir }), metrics: createMetrics(runtime), version: '0.0.0-test' });
    try {
      const answer = await app.inject({ method: 'POST', url: `/api/batches?${query(options)}`, payload: { path: 'manifest.jsonl' } });
      expect(answer.statusCode, answer.body).toBe(202);
    } finally {
      await app.close();
    }
  }
}

/** What the batch holds after the enqueue: its status (times apart) and its jobs (id, name, payload, priority). */
async function metadata(channel: Channel): Promise<unknown> {
  const runtime = runtimes.get(channel)!;
  const { summary, ...status } = await batchStatus(runtime, BATCH);
  const { createdAt: _created, ...stable } = summary;
  const jobs = await runtime.queues.ooto!.getJobs(['prioritized', 'waiting', 'delayed']);
  return {
    summary: stable,
    ...status,
    jobs: jobs.map((j) => ({ id: j.id, name: j.name, data: j.data, priority: j.opts.priority })).sort((a, b) => String(a.id).localeCompare(String(b.id))),
  };
}

describe('one enqueue-options schema', () => {
  it('this test sets every option there is', () => {
    expect(Object.keys(OPTIONS).sort()).toEqual(Object.keys(ENQUEUE_OPTIONS).sort());
  });

  it('the CLI, the programmatic API and the HTTP API store identical batch metadata', async () => {
    for (const channel of CHANNELS) await enqueueThrough(channel, OPTIONS);
    const [cli, api, http] = await Promise.all(CHANNELS.map((c) => metadata(c)));
    // Every option took effect (so "identical" is not identically empty).
    expect(cli).toMatchObject({
      summary: { batch: BATCH, manifest, total: 6, byStatus: { failed: 1 } },
      review: 'worse,score-drop:0.3,shared',
      budget: { maxCalls: 7, maxSpend: 1_250_000, currency: 'USD', terms: { prices: { ooto: 20_000, glair: 50_000 } }, failureGuard: { ratePpm: 50_000, window: 200 } },
      jobs: [
        { name: 'ooto-deepfake', data: { line: 1, dedupe: true }, priority: 21 },
        { name: 'ooto-deepfake', data: { line: 2, dedupe: true }, priority: 21 },
        { name: 'ooto-deepfake', data: { line: 3, dedupe: true }, priority: 21 },
        // The canary set: after the manifest's last line, ahead of everything (BullMQ's 1), never deduped.
        { name: 'ooto-deepfake', data: { line: 5, subject: 'canary-g', canary: { expect: 'genuine', threshold: 0.05 } }, priority: 1 },
        { name: 'ooto-deepfake', data: { line: 6, subject: 'canary-f', canary: { expect: 'deepfake', threshold: 0.05 } }, priority: 1 },
      ],
    });
    expect(api).toEqual(cli);
    expect(http).toEqual(cli);
  });

  it('a dry run with every option set writes nothing, whichever the channel', async () => {
    const dry = { ...OPTIONS, batch: 'dry-batch', dryRun: true };
    for (const channel of CHANNELS) await enqueueThrough(channel, dry);
    for (const channel of CHANNELS) expect(await runtimes.get(channel)!.store.summary('dry-batch'), channel).toBeNull();
  });

  it('refuses an option out of range with the same words on every channel', async () => {
    const bad = { ...OPTIONS, batch: 'bad-batch', priority: 101 };
    const cli = await runCli(['enqueue', manifest, ...argv(bad)], envOf('cli'));
    const rescreen = await createRescreen({ env: envOf('api') });
    const api = await rescreen.enqueue(manifest, bad).then(() => 'accepted', (e: unknown) => (e as Error).message);
    await rescreen.close();
    const runtime = runtimes.get('http')!;
    const app = await buildServer({ runtime, server: serverConfig({ RESCREEN_SERVE_MANIFEST_ROOT: dir }), metrics: createMetrics(runtime), version: '0.0.0-test' });
    const http = await app.inject({ method: 'POST', url: `/api/batches?${query(bad)}`, payload: { path: 'manifest.jsonl' } });
    await app.close();
    const words = '--priority must be a whole number from 1 (last) to 100 (first); the default is 50';
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain(words);
    expect(api).toBe(words);
    expect(http.statusCode).toBe(400);
    expect(http.body).toContain(words);
  });
});
