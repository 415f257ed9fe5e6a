/**
 * The one place that opens a Redis connection for long-lived use: a single Redis, or a Redis
 * Cluster when the URL says `?cluster=true` (`redis://node:7000/?cluster=true`: any node, the others
 * are discovered). ioredis' Cluster speaks the same commands, scripts and pipelines as Redis, and
 * BullMQ takes either; on a Cluster every key must hash to one slot, so the prefix must carry a hash
 * tag ({@link assertClusterSafePrefix}).
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { ErrorCodes, RescreenError } from '../errors/errors.js';

/** True when the URL asks for a Redis Cluster (`?cluster=true` or `?cluster=1`). */
export function isClusterUrl(url: string): boolean {
  try {
    const v = new URL(url).searchParams.get('cluster');
    return v === 'true' || v === '1';
  } catch {
    return false;
  }
}

/**
 * A connection to the Redis (or Redis Cluster) at `url`. A Cluster is returned as the `Redis` type:
 * it has the same command interface, and the code above uses nothing a Cluster lacks.
 */
export function connectRedis(url: string, options: RedisOptions = {}): Redis {
  if (!isClusterUrl(url)) return new Redis(url, options);
  const u = new URL(url);
  const cluster = new Cluster([{ host: u.hostname, port: Number(u.port || 6379) }], {
    redisOptions: {
      ...options,
      ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
      ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
      ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    },
  });
  return cluster as unknown as Redis;
}

/**
 * On a Redis Cluster, every rescreen key must land in one slot (BullMQ's and the store's Lua scripts
 * touch several keys): the prefix must contain a non-empty hash tag, e.g. `{rescreen}`.
 * @throws RescreenError PREFIX_NOT_CLUSTER_SAFE with the fix.
 */
export function assertClusterSafePrefix(prefix: string): void {
  const open = prefix.indexOf('{');
  const close = open < 0 ? -1 : prefix.indexOf('}', open + 1);
  if (open >= 0 && close > open + 1) return;
  throw new RescreenError(
    ErrorCodes.PREFIX_NOT_CLUSTER_SAFE,
    `RESCREEN_PREFIX=${prefix} would spread rescreen's keys over several Redis Cluster slots, which its scripts cannot work with; ` +
      `set RESCREEN_PREFIX={${prefix.replace(/[{}]/g, '') || 'rescreen'}} (a hash tag keeps every key in one slot)`,
  );
}
