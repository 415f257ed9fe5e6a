/**
 * What a worker pool does every 2 s (./worker-pool.ts): publish this process's heartbeat, read back
 * each vendor's admission state (the fleet's 429 pause, the learned rate, the circuit breaker), size
 * `auto` concurrency from the quota and the observed latency, and say once when a fixed concurrency
 * cannot reach the quota.
 */
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Vendor } from '../vendors/types.js';
import type { Admission } from '../quota/admission.js';
import { autoConcurrency, capacityShortfall, readHeartbeats, writeHeartbeat, type VendorHeartbeat } from '../quota/capacity.js';
import { steadyPerSecond, type Quota } from '../quota/spec.js';
import { redisTime } from '../redis/time.js';

export interface PoolTick {
  readonly redis: Redis;
  readonly prefix: string;
  /** This process's heartbeat id. */
  readonly id: string;
  readonly workers: ReadonlyMap<Vendor, Worker>;
  readonly admissionOf: (vendor: Vendor) => Admission;
  /** The quota in force for a vendor now. */
  readonly quotaOf: (vendor: Vendor) => Quota | undefined;
  /** Concurrency is sized from quota × latency (RESCREEN_CONCURRENCY=auto and no --concurrency). */
  readonly auto: boolean;
  /** Vendors whose too-low concurrency was said already (once, until it is enough again). */
  readonly shortfallLogged: Set<Vendor>;
  readonly log: Logger;
}

export async function poolTick(t: PoolTick): Promise<void> {
  const vendors: Partial<Record<Vendor, VendorHeartbeat>> = {};
  for (const [vendor, worker] of t.workers) {
    vendors[vendor] = { concurrency: worker.concurrency, latencyMs: t.admissionOf(vendor).latencyMs, auto: t.auto };
  }
  const now = await redisTime(t.redis);
  await writeHeartbeat(t.redis, t.prefix, { id: t.id, at: now, vendors });
  const beats = await readHeartbeats(t.redis, t.prefix, now);
  for (const [vendor, worker] of t.workers) {
    const admission = t.admissionOf(vendor);
    const { learnedPerSecond } = await admission.refresh();
    const quota = t.quotaOf(vendor);
    const perSecond = (quota?.auto === true ? learnedPerSecond : undefined) ?? (quota === undefined ? undefined : steadyPerSecond(quota));
    const { latencyMs } = admission;
    if (t.auto) {
      if (perSecond !== undefined && latencyMs !== undefined) {
        const processes = beats.filter((b) => b.vendors[vendor] !== undefined).length;
        const next = autoConcurrency(perSecond, latencyMs, processes);
        if (next !== worker.concurrency) {
          t.log.debug({ vendor, from: worker.concurrency, to: next, latencyMs: Math.round(latencyMs), perSecond }, 'concurrency resized');
          worker.concurrency = next;
        }
      }
      continue;
    }
    const shortfall = capacityShortfall(vendor, perSecond, beats);
    if (shortfall === undefined) t.shortfallLogged.delete(vendor);
    else if (!t.shortfallLogged.has(vendor)) {
      t.log.warn({ vendor }, shortfall);
      t.shortfallLogged.add(vendor);
    }
  }
}
