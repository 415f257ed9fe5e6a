/**
 * Enough in flight to reach the quota: a vendor allowing r calls/s with latency L seconds needs
 * about r × L calls in flight across the fleet. Workers publish a heartbeat (their concurrency and
 * observed latency per vendor) so any process can tell whether the fleet can reach the quota.
 */
import type { Redis } from '../redis/client.js';
import { heartbeatsKey } from '../redis/keys.js';
import type { Vendor } from '../vendors/types.js';
import { redisTime } from '../redis/time.js';

/** Smallest and largest concurrency `auto` sets per vendor per process. */
export const AUTO_CONCURRENCY_MIN = 4;
export const AUTO_CONCURRENCY_MAX = 256;
/** A heartbeat older than this is a worker that is gone, ms. */
export const HEARTBEAT_TTL_MS = 10_000;

/** What one worker process says about one vendor. */
export interface VendorHeartbeat {
  readonly concurrency: number;
  /** Smoothed call latency, ms; undefined before the first answer. */
  readonly latencyMs: number | undefined;
  readonly auto: boolean;
}

export interface Heartbeat {
  readonly id: string;
  /** Redis TIME when written, ms: every host compares beats on that one clock, whatever its own. */
  readonly at: number;
  readonly vendors: Partial<Record<Vendor, VendorHeartbeat>>;
}

export async function writeHeartbeat(redis: Redis, prefix: string, beat: Heartbeat): Promise<void> {
  await redis.hset(heartbeatsKey(prefix), beat.id, JSON.stringify(beat));
}

export async function removeHeartbeat(redis: Redis, prefix: string, id: string): Promise<void> {
  await redis.hdel(heartbeatsKey(prefix), id);
}

/** Live workers' heartbeats; stale ones are pruned. `now` defaults to Redis TIME (the clock beats are written in). */
export async function readHeartbeats(redis: Redis, prefix: string, now?: number): Promise<Heartbeat[]> {
  const [all, at] = await Promise.all([redis.hgetall(heartbeatsKey(prefix)), now ?? redisTime(redis)]);
  const live: Heartbeat[] = [];
  const stale: string[] = [];
  for (const [id, json] of Object.entries(all)) {
    try {
      const beat = JSON.parse(json) as Heartbeat;
      if (at - beat.at <= HEARTBEAT_TTL_MS) live.push(beat);
      else stale.push(id);
    } catch {
      stale.push(id);
    }
  }
  if (stale.length > 0) await redis.hdel(heartbeatsKey(prefix), ...stale);
  return live;
}

/**
 * The concurrency `auto` gives one process for one vendor: its share of rate × latency, with
 * headroom for latency spikes, within [AUTO_CONCURRENCY_MIN, AUTO_CONCURRENCY_MAX].
 */
export function autoConcurrency(perSecond: number, latencyMs: number, processes: number): number {
  const need = (perSecond * latencyMs) / 1000 / Math.max(1, processes);
  return Math.min(AUTO_CONCURRENCY_MAX, Math.max(AUTO_CONCURRENCY_MIN, Math.ceil(need * 1.5) + 2));
}

/**
 * `ooto: 16 in flight × 1.4 s latency ≈ 11/s, below the 15/s quota: raise RESCREEN_CONCURRENCY`, or
 * undefined when the fleet's concurrency can reach the quota (or nothing is known yet).
 */
export function capacityShortfall(vendor: Vendor, perSecond: number | undefined, beats: readonly Heartbeat[]): string | undefined {
  if (perSecond === undefined) return undefined;
  let inFlight = 0;
  let latencySum = 0;
  let latencyN = 0;
  for (const b of beats) {
    const v = b.vendors[vendor];
    if (v === undefined) continue;
    inFlight += v.concurrency;
    if (v.latencyMs !== undefined) {
      latencySum += v.latencyMs;
      latencyN += 1;
    }
  }
  if (inFlight === 0 || latencyN === 0) return undefined;
  const latencyS = latencySum / latencyN / 1000;
  const reachable = inFlight / latencyS;
  if (reachable >= perSecond * 0.95) return undefined;
  return (
    `${vendor}: ${inFlight} in flight × ${latencyS.toFixed(1)} s latency ≈ ${Math.floor(reachable)}/s, ` +
    `below the ${fmtRate(perSecond)} quota: raise RESCREEN_CONCURRENCY`
  );
}

function fmtRate(perSecond: number): string {
  return `${Number.isInteger(perSecond) ? perSecond : perSecond.toFixed(1)}/s`;
}
