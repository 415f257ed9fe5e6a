/**
 * Integration-test harness: a real Redis under a fresh prefix, the vendor simulator, sample media in
 * a temp folder, and the runtime wired exactly as the CLI wires it.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Config } from '../../src/config/config.js';
import { loadConfig } from '../../src/runtime/built-ins.js';
import { createLogger } from '../../src/log/logger.js';
import { enqueueManifest, type EnqueueSummary } from '../../src/queueing/producer.js';
import { openRuntime, startWorkers, type Runtime } from '../../src/runtime/runtime.js';
import { SIM_CREDENTIALS, startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/server.js';
import { dropSchema, freshSchema, storeUrl } from './postgres.js';
import { dropPrefix, freshPrefix, redisClient, redisUrl } from './redis.js';

/** The result stores the key integration tests run against (`describe.each(STORE_KINDS)`). */
export const STORE_KINDS = ['redis', 'postgres'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

export interface Harness {
  readonly prefix: string;
  readonly dir: string;
  readonly sim: Simulator;
  readonly config: Config;
  /** Environment for a child `rescreen` process that talks to the same Redis, prefix and simulator. */
  readonly env: Record<string, string>;
  openRuntime(overrides?: Record<string, string>): Promise<Runtime>;
  /** Writes a file under the harness folder (parents created). Returns its absolute path. */
  file(name: string, bytes: Buffer | string): Promise<string>;
  /** Writes a JSONL manifest, one JSON value a line (non-objects make invalid lines on purpose). */
  manifest(name: string, lines: readonly unknown[]): Promise<string>;
  close(): Promise<void>;
}

/** Test-speed worker tuning: short backoffs and locks, so retries and stalled jobs show up in seconds. */
export const FAST_TUNING: Record<string, string> = {
  RESCREEN_BACKOFF_MS: '50',
  RESCREEN_CALL_RETRIES: '1',
  RESCREEN_REQUEST_TIMEOUT_MS: '5000',
  RESCREEN_LOCK_MS: '4000',
  RESCREEN_STALLED_INTERVAL_MS: '1000',
  RESCREEN_CONCURRENCY: '8',
  LOG_LEVEL: 'silent',
  // Test media servers listen on 127.0.0.1, which the media host policy refuses by default.
  RESCREEN_MEDIA_ALLOW_HOSTS: '127.0.0.1',
};

/**
 * @param options.store - `postgres`: results in a fresh PostgreSQL schema (RESCREEN_STORE_URL, for
 *   child processes too), dropped by `close()`; default `redis`.
 */
export async function createHarness(
  label: string,
  simOptions: SimulatorOptions = {},
  env: Record<string, string> = {},
  options: { store?: StoreKind } = {},
): Promise<Harness> {
  const prefix = freshPrefix(label);
  const schema = options.store === 'postgres' ? freshSchema(label) : undefined;
  const sim = await startSimulator(simOptions);
  const dir = await mkdtemp(join(tmpdir(), `rescreen-${label}-`));
  const baseEnv: Record<string, string> = {
    REDIS_URL: redisUrl(),
    RESCREEN_PREFIX: prefix,
    OOTO_BASE_URL: sim.url,
    OOTO_APP_ID: SIM_CREDENTIALS.ooto.appId,
    OOTO_APP_KEY: SIM_CREDENTIALS.ooto.appKey,
    GLAIR_BASE_URL: sim.url,
    GLAIR_USERNAME: SIM_CREDENTIALS.glair.username,
    GLAIR_PASSWORD: SIM_CREDENTIALS.glair.password,
    GLAIR_API_KEY: SIM_CREDENTIALS.glair.apiKey,
    ...FAST_TUNING,
    ...(schema !== undefined ? { RESCREEN_STORE_URL: storeUrl(schema) } : {}),
    ...env,
  };
  const runtimes: Runtime[] = [];
  const harness: Harness = {
    prefix,
    dir,
    sim,
    config: loadConfig(baseEnv),
    env: baseEnv,
    async openRuntime(overrides = {}) {
      const config = loadConfig({ ...baseEnv, ...overrides });
      const runtime = await openRuntime(config, createLogger(config.logLevel, { pretty: false }));
      runtimes.push(runtime);
      return runtime;
    },
    async file(name, bytes) {
      const path = join(dir, name);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, bytes);
      return path;
    },
    async manifest(name, lines) {
      return harness.file(name, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    },
    async close() {
      await Promise.all(runtimes.map((r) => r.close()));
      await sim.close();
      const client = redisClient();
      await dropPrefix(client, prefix);
      await dropPrefix(client, `${prefix}-demo`); // `rescreen demo` keeps to <prefix>-demo
      await client.quit();
      if (schema !== undefined) await dropSchema(schema);
      await rm(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Polls until `check` holds (or throws after `timeoutMs`). */
export async function eventually<T>(probe: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Enqueues a manifest, works until the batch has a record for every line, stops the workers; the enqueue summary. */
export async function runToEnd(runtime: Runtime, manifest: string, batch: string): Promise<EnqueueSummary> {
  const summary = await enqueueManifest({ manifestPath: manifest, batch, queues: runtime.queues, checks: runtime.checks, store: runtime.store });
  const workers = startWorkers(runtime);
  try {
    await eventually(
      () => runtime.store.summary(batch),
      (s) => s !== null && s.producerDone && s.recorded >= s.total,
    );
  } finally {
    await workers.close();
  }
  return summary;
}
