/**
 * The fleet's clock: Redis TIME. Worker hosts' clocks drift apart (and from Redis); a time written by
 * one host and compared by another must come from one clock, as the admission scripts' times do.
 */
import type { Redis } from 'ioredis';

/** Redis TIME, ms since the epoch (on a Cluster, any node's: they keep NTP time like any host). */
export async function redisTime(redis: Redis): Promise<number> {
  // ioredis types TIME as number[]; the reply is two integer strings (seconds, microseconds).
  const [seconds, micros] = (await redis.time()) as unknown as [string, string];
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}
