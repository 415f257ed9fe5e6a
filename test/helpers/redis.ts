import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { inject } from 'vitest';

/** The Redis URL the global set-up found. */
export function redisUrl(): string {
  return inject('redisUrl');
}

/** A fresh key prefix, unique to one test. */
export function freshPrefix(label = 't'): string {
  return `rescreen-test-${label}-${randomBytes(5).toString('hex')}`;
}

/** A plain ioredis client for assertions; the caller quits it. */
export function redisClient(): Redis {
  return new Redis(redisUrl(), { maxRetriesPerRequest: null });
}

/** Deletes every key under a prefix (SCAN, never KEYS). */
export async function dropPrefix(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await client.unlink(...keys);
  } while (cursor !== '0');
}
