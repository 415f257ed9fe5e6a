/**
 * A test's own corner of a real Redis: a unique hash-tagged key prefix, fast worker tuning, a
 * temporary folder for media, and `cleanup()` that leaves Redis and the disk as they were.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { createRescreen, type Rescreen, type RescreenOptions, type WaitOptions } from '../api/rescreen.js';
import { dropStore, type BatchSummary } from '../app/index.js';
import type { ResultRecord } from '../checks/types.js';
import { DEFAULT_REDIS_URL } from '../config/defaults.js';
import { isStoreUrlProblem, parseStoreUrl } from '../config/store-url.js';
import { InvalidInputError } from '../errors/errors.js';
import type { TestSimulator } from './simulator.js';

/**
 * Worker tuning for tests: short backoffs, locks and stalled checks, so retries and crashed workers
 * show up in seconds; logs off. Any of it can be overridden with `createTestEnv({ env })`.
 */
export const FAST_TUNING: Readonly<Record<string, string>> = Object.freeze({
  RESCREEN_BACKOFF_MS: '50',
  RESCREEN_CALL_RETRIES: '1',
  RESCREEN_REQUEST_TIMEOUT_MS: '5000',
  RESCREEN_LOCK_MS: '4000',
  RESCREEN_STALLED_INTERVAL_MS: '1000',
  RESCREEN_QUOTA_RECHECK_MS: '200',
  RESCREEN_CONCURRENCY: '8',
  LOG_LEVEL: 'silent',
});

/** Every prefix this kit makes starts with this (`{rescreen-test-<label>-<random>}`). */
export const TEST_PREFIX_START = '{rescreen-test-';

/** Options of {@link createTestEnv}. */
export interface TestEnvOptions {
  /** The Redis to use. Default: `REDIS_URL` of the environment, else `redis://127.0.0.1:6379`. */
  readonly redisUrl?: string;
  /**
   * Where results are kept: a `postgres://` URL keeps them in PostgreSQL, in a schema of this
   * environment's own (the URL's `?schema=` is replaced; `cleanup()` drops it); unset, or the
   * `redisUrl`: in Redis, under the prefix. Another URL is refused (never echoed: it may hold a password).
   */
  readonly storeUrl?: string;
  /** Points rescreen at this simulator (its URLs and the credentials it accepts). */
  readonly simulator?: TestSimulator;
  /** A word in the prefix, to tell whose keys are whose (`A-Z a-z 0-9 _ . -`, at most 20). Default `t`. */
  readonly label?: string;
  /** More variables (or overrides of {@link FAST_TUNING}), as for the CLI. */
  readonly env?: Readonly<Record<string, string>>;
}

/** A test environment: see {@link createTestEnv}. */
export interface TestEnv {
  /** The unique key prefix, hash-tagged (`{…}`: every key in one Redis Cluster slot). */
  readonly prefix: string;
  readonly redisUrl: string;
  /** A temporary folder for media and manifests, removed by `cleanup()`. */
  readonly dir: string;
  /**
   * The variables for a `rescreen` child process (or `createRescreen({ env })`): Redis, prefix,
   * tuning, the simulator's URLs and credentials. Add `PATH` yourself when you spawn the CLI.
   */
  readonly env: Readonly<Record<string, string>>;
  /** A programmatic rescreen on this environment (closed by `cleanup()` if you do not close it). */
  rescreen(options?: Omit<RescreenOptions, 'env' | 'config'>): Promise<Rescreen>;
  /** Writes a file under `dir` (parents created); returns its absolute path. */
  file(name: string, bytes: Uint8Array | string): Promise<string>;
  /** Writes a JSONL manifest under `dir`, one object a line; returns its absolute path. */
  manifest(name: string, lines: readonly object[]): Promise<string>;
  /**
   * Resolves once the batch has every record (workers must run: `(await env.rescreen()).work()`,
   * or a `rescreen work` process).
   * @throws WaitTimeoutError (`WAIT_TIMEOUT`) after `timeoutMs` (default 30 s), saying how far it got.
   */
  waitForBatch(batch: string, options?: WaitOptions): Promise<BatchSummary>;
  /** The batch's records, in line order. */
  records(batch: string): Promise<ResultRecord[]>;
  /** The keys under the prefix now (for assertions), sorted. */
  keys(): Promise<string[]>;
  /**
   * Closes every rescreen this environment made (workers first), deletes every key under the
   * prefix — BullMQ's, the store's, the quota's, and `<prefix>-demo` of `rescreen demo` — the
   * folder, and the PostgreSQL schema of a `storeUrl`. End your own `rescreen` child processes first: a process still running writes again.
   * Returns the number of keys deleted. Idempotent.
   */
  cleanup(): Promise<number>;
}

/**
 * Creates a test environment on a real Redis (it answers, or this throws REDIS_UNAVAILABLE). Import
 * and creation start nothing else: no worker runs until you start one.
 */
export async function createTestEnv(options: TestEnvOptions = {}): Promise<TestEnv> {
  // The testing kit, like the test harnesses, reads the runner's REDIS_URL as a default (CI sets it).
  // eslint-disable-next-line no-restricted-properties
  const redisUrl = options.redisUrl ?? (process.env.REDIS_URL || DEFAULT_REDIS_URL);
  const label = options.label ?? 't';
  if (!/^[A-Za-z0-9_.-]{1,20}$/.test(label)) throw new InvalidInputError(`label ${JSON.stringify(label)}: 1-20 characters of A-Z a-z 0-9 _ . -`);
  const random = randomBytes(5).toString('hex');
  const prefix = `${TEST_PREFIX_START}${label}-${random}}`;
  const storeUrl = options.storeUrl === undefined || options.storeUrl === redisUrl ? undefined : ownStore(options.storeUrl, `rescreen_test_${label.toLowerCase().replace(/[^a-z0-9_]/g, '_')}_${random}`);
  const env: Record<string, string> = {
    REDIS_URL: redisUrl,
    RESCREEN_PREFIX: prefix,
    ...FAST_TUNING,
    ...(options.simulator?.env ?? {}),
    ...(options.env ?? {}),
    ...(storeUrl !== undefined ? { RESCREEN_STORE_URL: storeUrl } : {}),
  };
  const instances = new Set<Rescreen>();
  let own: Promise<Rescreen> | undefined;
  const dir = await mkdtemp(join(tmpdir(), 'rescreen-test-'));
  const open = async (extra: Omit<RescreenOptions, 'env' | 'config'> = {}): Promise<Rescreen> => {
    const r = await createRescreen({ ...extra, env });
    instances.add(r);
    return r;
  };
  const mine = (): Promise<Rescreen> => (own ??= open());
  let cleaning: Promise<number> | undefined;

  const testEnv: TestEnv = {
    prefix,
    redisUrl,
    dir,
    env,
    rescreen: open,
    async file(name, bytes) {
      const path = join(dir, name);
      const rel = relative(dir, path);
      if (rel.startsWith('..') || isAbsolute(rel)) throw new InvalidInputError(`file ${JSON.stringify(name)} is outside the test folder`);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, bytes);
      return path;
    },
    manifest: (name, lines) => testEnv.file(name, lines.map((l) => JSON.stringify(l)).join('\n') + '\n'),
    waitForBatch: async (batch, wait = {}) => (await mine()).waitForBatch(batch, { timeoutMs: 30_000, ...wait }),
    async records(batch) {
      const out: ResultRecord[] = [];
      for await (const record of (await mine()).records(batch)) out.push(record);
      return out;
    },
    keys: () => withClient(redisUrl, async (client) => (await scanKeys(client, prefix)).sort()),
    cleanup: () =>
      (cleaning ??= (async () => {
        await Promise.all([...instances].map((r) => r.close()));
        let deleted = 0;
        await withClient(redisUrl, async (client) => {
          // Twice, a moment apart: a BullMQ connection closing can still write a key (a stalled-check marker).
          for (let pass = 0; pass < 2; pass++) {
            deleted += await dropKeys(client, prefix);
            if (pass === 0) await sleep(50);
          }
        });
        if (storeUrl !== undefined) await dropStore(storeUrl);
        await rm(dir, { recursive: true, force: true });
        return deleted;
      })()),
  };
  return testEnv;
}

/** `url` with the environment's own schema. @throws InvalidInputError when it is not a PostgreSQL store URL. */
function ownStore(url: string, schema: string): string {
  const read = parseStoreUrl(url);
  if (isStoreUrlProblem(read)) throw new InvalidInputError(`storeUrl ${read.message} (or the redisUrl, to keep results in Redis)`);
  const own = new URL(url.trim());
  own.searchParams.set('schema', schema);
  return own.toString();
}

async function withClient<T>(url: string, fn: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await fn(client);
  } finally {
    await client.quit().catch(() => client.disconnect());
  }
}

/**
 * Every key that starts with the prefix (SCAN, never KEYS). Matching `<prefix>*`, not `<prefix>:*`,
 * also takes `<prefix>-demo:` (`rescreen demo`); the prefix ends with a random part and `}`, so no
 * other prefix starts with it. None of the prefix's characters is special in a SCAN pattern.
 */
async function scanKeys(client: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

async function dropKeys(client: Redis, prefix: string): Promise<number> {
  const keys = await scanKeys(client, prefix);
  for (let i = 0; i < keys.length; i += 500) await client.unlink(...keys.slice(i, i + 500));
  return keys.length;
}
