/**
 * Redis helpers of the benchmark: a fresh key prefix per scenario, deleted afterwards with
 * SCAN + UNLINK (never KEYS, never FLUSHDB: the Redis may be shared).
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** A key prefix unique to one scenario side, e.g. `rescreen-bench-a-rescreen-1f2e3d4c`. */
export function freshPrefix(label: string): string {
  return `rescreen-bench-${label}-${randomBytes(4).toString('hex')}`;
}

/** A plain client; the caller quits it. */
export function redisClient(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null });
}

/** Deletes every key under `prefix:` (SCAN + UNLINK). Returns how many keys went. */
export async function dropPrefix(client: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let dropped = 0;
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) dropped += await client.unlink(...keys);
  } while (cursor !== '0');
  return dropped;
}

/** `redis_version` from INFO server. */
export async function redisVersion(client: Redis): Promise<string> {
  const info = await client.info('server');
  return /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? 'unknown';
}
