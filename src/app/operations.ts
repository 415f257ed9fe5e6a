/**
 * What an operator's surface asks besides batches: readiness (Redis and the store answer), the
 * metrics gauges' snapshot, and the completion-webhook delivery log.
 */
import { driftReportsKey } from '../redis/keys.js';
import type { DriftSummary } from '../drift/report.js';
import { Metrics, type MetricsSnapshot } from '../metrics/metrics.js';
import { DeliveryLog, type DeliveryRecord, type DeliveryState } from '../notify/deliveries.js';
import { NOTIFICATIONS_QUEUE } from '../notify/notifications.js';
import { queueSample } from '../queueing/inspect.js';
import { breakerAlerts } from '../quota/report.js';
import { steadyPerSecond } from '../quota/spec.js';
import type { Runtime } from '../runtime/runtime.js';
import { quotas } from './batches.js';

export { Metrics, METRICS_CONTENT_TYPE } from '../metrics/metrics.js';
export { DELIVERY_STATES, type DeliveryRecord, type DeliveryState } from '../notify/deliveries.js';

export interface Readiness {
  readonly ready: boolean;
  readonly checks: Readonly<Record<'redis' | 'store' | 'vendors', { readonly ok: boolean; readonly error?: string }>>;
}

/**
 * Asks Redis (PING) and the store (a one-batch listing, through its contract) within `timeoutMs`
 * each, and reads the vendors' breakers: one open longer than RESCREEN_BREAKER_ALERT_MS is not ready.
 */
export async function readiness(runtime: Runtime, timeoutMs = 2_000): Promise<Readiness> {
  const probe = async (fn: () => Promise<unknown>) => {
    try {
      await Promise.race([fn(), new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref())]);
      return { ok: true };
    } catch (error) {
      // A one-line reason; never a URL (it may carry a password).
      return { ok: false, error: error instanceof Error ? error.message.split('\n')[0]!.replace(/\w+:\/\/\S+/g, '[url]') : 'unknown error' };
    }
  };
  const [redis, store] = await Promise.all([probe(() => runtime.redis.ping()), probe(() => runtime.store.listBatches(1))]);
  const vendors = redis.ok
    ? await probe(async () => {
        const alerts = await breakerAlerts(runtime.redis, runtime.config.prefix, runtime.vendors.map((v) => v.name), runtime.config.worker.breaker);
        if (alerts.length > 0) throw new Error(alerts.join('; '));
      })
    : { ok: false, error: 'not read: Redis did not answer' };
  return { ready: redis.ok && store.ok && vendors.ok, checks: { redis, store, vendors } };
}

/** Reads the gauges' values from Redis (called once per scrape). */
export async function metricsSnapshot(runtime: Runtime, batchLimit = 100): Promise<MetricsSnapshot> {
  const now = Date.now();
  const named: [string, Parameters<typeof queueSample>[1]][] = runtime.vendors.flatMap((v) => {
    const queue = runtime.queues[v.name];
    return queue ? [[v.name, queue] as [string, typeof queue]] : [];
  });
  if (runtime.notifications) named.push([NOTIFICATIONS_QUEUE, runtime.notifications]);
  const queueSamples = await Promise.all(named.map(([name, q]) => queueSample(name, q, now)));
  const quotaSamples = (await quotas(runtime)).map((r) => ({
    vendor: r.vendor,
    perSecond: r.state.learnedPerSecond ?? (r.quota ? steadyPerSecond(r.quota) : undefined),
    windows: r.state.windows.map((w) => ({ window: w.unit, max: w.max, used: w.used })),
    inFlight: r.inFlight,
    breaker: { open: r.breaker !== undefined, openSeconds: (r.breaker?.openForMs ?? 0) / 1000, alert: r.breaker?.alert === true },
  }));
  const byStatus: Record<string, number> = {};
  const byVerdict: Record<string, number> = {};
  const ids = await runtime.store.listBatches(batchLimit);
  for (const id of ids) {
    const s = await runtime.store.summary(id);
    if (!s) continue;
    for (const [k, n] of Object.entries(s.byStatus)) byStatus[k] = (byStatus[k] ?? 0) + n;
    for (const [k, n] of Object.entries(s.byVerdict)) byVerdict[k] = (byVerdict[k] ?? 0) + n;
  }
  const deliveries = await new DeliveryLog(runtime.redis, runtime.config.prefix).counts();
  return { queues: queueSamples, quotas: quotaSamples, records: { byStatus, byVerdict }, deliveries, drift: await lastDrift(runtime, ids) };
}

/** The last PSI per check: from the newest of `ids` (newest first) whose kept drift report has a PSI for it. */
async function lastDrift(runtime: Runtime, ids: readonly string[]): Promise<NonNullable<MetricsSnapshot['drift']>> {
  if (ids.length === 0) return [];
  const kept = await runtime.redis.hmget(driftReportsKey(runtime.config.prefix), ...ids);
  const out = new Map<string, { check: string; batch: string; psi: number; alert: boolean }>();
  kept.forEach((text, i) => {
    if (text === null) return;
    try {
      const { drift } = JSON.parse(text) as { drift: DriftSummary };
      for (const c of drift.checks) if (c.psi !== null && !out.has(c.check)) out.set(c.check, { check: c.check, batch: ids[i]!, psi: c.psi, alert: drift.alert });
    } catch {
      // A damaged entry is left out (it is recomputed on the next read of that batch).
    }
  });
  return [...out.values()];
}

/** A Metrics registry whose gauges read this runtime's Redis at each scrape. */
export function createMetrics(runtime: Runtime): Metrics {
  return new Metrics(() => metricsSnapshot(runtime));
}

/** Completion-webhook deliveries, newest change first, with the counts per state. */
export async function webhookDeliveries(
  runtime: Runtime,
  options: { limit?: number; state?: DeliveryState } = {},
): Promise<{ deliveries: DeliveryRecord[]; counts: Record<DeliveryState, number>; configured: boolean }> {
  const log = new DeliveryLog(runtime.redis, runtime.config.prefix);
  const all = await log.list(options.limit ?? 100);
  return {
    deliveries: options.state === undefined ? all : all.filter((d) => d.state === options.state),
    counts: await log.counts(),
    configured: runtime.config.webhook !== undefined,
  };
}
