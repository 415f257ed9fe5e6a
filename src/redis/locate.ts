/**
 * Finding a Redis to talk to, in the order the README promises:
 * REDIS_URL if set → a server on 127.0.0.1:6379 → a `redis-server` on PATH started here.
 * (Tests add testcontainers as a last resort; see test/helpers/global-setup.ts.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { redactUrl } from '../config/config.js';
import { DEFAULT_REDIS_URL } from '../config/defaults.js';
import { ErrorCodes, RescreenError } from '../errors/errors.js';

export { DEFAULT_REDIS_URL } from '../config/defaults.js';

export interface LocatedRedis {
  readonly url: string;
  /** How it was found: `env`, `local` (127.0.0.1:6379), `spawned` (a redis-server started here). */
  readonly source: 'env' | 'local' | 'spawned' | 'container';
  /** Stops what was started here (no-op for a server someone else runs). */
  stop(): Promise<void>;
}

/** No Redis answers and none could be started (REDIS_UNAVAILABLE); the message says how to get one, password-free. */
export class RedisUnavailableError extends RescreenError {
  override name = 'RedisUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.REDIS_UNAVAILABLE, message, options);
  }
}

/**
 * PINGs a Redis once, quickly, without ioredis' endless reconnects. Resolves false when it does not
 * answer within `timeoutMs` — a refused connection, and also a server that accepts the connection
 * but never replies (frozen: connectTimeout alone covers only the TCP connect).
 */
export async function pingRedis(url: string, timeoutMs = 2_000): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  client.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  try {
    const answer = async () => {
      await client.connect();
      return (await client.ping()) === 'PONG';
    };
    return await Promise.race([answer().catch(() => false), deadline]);
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}

/** Throws RedisUnavailableError with a one-line, password-free message when `url` does not answer. */
export async function assertRedisReachable(url: string): Promise<void> {
  if (!(await pingRedis(url, 3_000))) {
    throw new RedisUnavailableError(
      `cannot reach Redis at ${redactUrl(url)} (no answer within 3 s) — start one (docker compose up -d redis, or your distro's redis-server) or set REDIS_URL`,
    );
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Starts `redis-server` from PATH on a free loopback port, keeping nothing on disk. */
export async function spawnRedisServer(): Promise<LocatedRedis | undefined> {
  const port = await freePort();
  let child: ChildProcess;
  try {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
  } catch {
    return undefined;
  }
  const spawnFailed = new Promise<boolean>((resolve) => {
    child.once('error', () => resolve(true));
    child.once('exit', () => resolve(true));
  });
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 50; i++) {
    const failed = await Promise.race([spawnFailed, sleep(100, false)]);
    if (failed) return undefined;
    if (await pingRedis(url, 500)) {
      return {
        url,
        source: 'spawned',
        stop: async () => {
          if (child.exitCode === null) {
            child.kill('SIGTERM');
            await spawnFailed;
          }
        },
      };
    }
  }
  child.kill('SIGKILL');
  return undefined;
}

/**
 * Finds a Redis: `explicitUrl` (REDIS_URL) if given — it must answer; else 127.0.0.1:6379; else a
 * `redis-server` started here. Throws RedisUnavailableError saying how to get one.
 */
export async function locateRedis(explicitUrl: string | undefined): Promise<LocatedRedis> {
  if (explicitUrl !== undefined) {
    await assertRedisReachable(explicitUrl);
    return { url: explicitUrl, source: 'env', stop: () => Promise.resolve() };
  }
  if (await pingRedis(DEFAULT_REDIS_URL, 1_000)) {
    return { url: DEFAULT_REDIS_URL, source: 'local', stop: () => Promise.resolve() };
  }
  const spawned = await spawnRedisServer();
  if (spawned) return spawned;
  throw new RedisUnavailableError(
    'no Redis found: REDIS_URL is not set, nothing answers on 127.0.0.1:6379 and no redis-server is on PATH — ' +
      'run `docker compose up -d redis` or install your distro\'s redis-server (e.g. apt-get install redis-server)',
  );
}
