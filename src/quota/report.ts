/**
 * What the fleet's quotas look like right now, as plain data for `status`, `batches` and
 * `limits show`: the quota in force per vendor and where it comes from, a pause or spent budget,
 * the learned rate of `auto`, live workers and whether their concurrency can reach the quota.
 */
import type { Redis } from '../redis/client.js';
import type { Vendor } from '../vendors/types.js';
import { redisTime } from '../redis/time.js';
import { quotaStateKey } from '../redis/keys.js';
import { capacityShortfall, readHeartbeats } from './capacity.js';
import { effectiveQuota, readOverrides } from './limits.js';
import { steadyPerSecond, type Quota } from './spec.js';
import { describeQuotaState, readQuotaState, type QuotaState } from './state.js';
import { describeBreaker, viewAt, type BreakerRecord, type BreakerSettings } from './breaker-state.js';
import { readBreaker } from './breaker-store.js';

export interface VendorQuotaReport {
  readonly vendor: Vendor;
  readonly quota: Quota | undefined;
  readonly source: 'override' | 'environment';
  /** The environment's quota text (`OOTO_RATE_LIMIT`), shown beside an override. */
  readonly environment: string | undefined;
  readonly state: QuotaState;
  /** Live worker processes taking this vendor's jobs, and their concurrency in all. */
  readonly workers: number;
  readonly inFlight: number;
  /** Set when the fleet's concurrency cannot reach the quota. */
  readonly shortfall: string | undefined;
  /** The vendor's circuit breaker while open (./breaker.ts); undefined when closed. */
  readonly breaker: { readonly openForMs: number; readonly alert: boolean; readonly line: string } | undefined;
  /** One line for screens: breaker, state and shortfall; undefined when there is nothing to say. */
  readonly line: string | undefined;
}

/** Of quotaReport: the quota clock (an injected one in tests), and the breaker settings (RESCREEN_BREAKER_*). */
export interface QuotaReportOptions {
  /** ms; default Redis TIME, the admission scripts' clock. */
  readonly now?: number | undefined;
  /** Without them, the breakers are not read. */
  readonly breaker?: BreakerSettings | undefined;
}

export async function quotaReport(
  redis: Redis,
  prefix: string,
  env: Readonly<Record<Vendor, Quota | undefined>>,
  options: QuotaReportOptions = {},
): Promise<VendorQuotaReport[]> {
  const { now } = options;
  const overrides = await readOverrides(redis, prefix);
  const beats = await readHeartbeats(redis, prefix);
  // Read on the clock the state was written on: a host whose clock is off would otherwise show a
  // spent day as unused, or count the wrong window.
  const at = now ?? (await redisTime(redis));
  const out: VendorQuotaReport[] = [];
  for (const vendor of Object.keys(env)) {
    const { quota, source } = effectiveQuota(vendor, env, overrides);
    const state = await readQuotaState(redis, quotaStateKey(prefix, vendor), vendor, quota, at);
    const mine = beats.filter((b) => b.vendors[vendor] !== undefined);
    const perSecond = state.learnedPerSecond ?? (quota ? steadyPerSecond(quota) : undefined);
    const shortfall = mine.some((b) => b.vendors[vendor]?.auto !== true) ? capacityShortfall(vendor, perSecond, mine) : undefined;
    const described = describeQuotaState(state);
    const stateLine = described !== undefined && source === 'override' ? `${described} (set by rescreen limits set)` : described;
    const breaker = options.breaker === undefined ? undefined : breakerReport(vendor, await readBreaker(redis, prefix, vendor), at, options.breaker);
    const line = [breaker?.line, stateLine, shortfall].filter((x) => x !== undefined).join('\n') || undefined;
    out.push({
      vendor,
      quota,
      source,
      environment: env[vendor]?.text,
      state,
      workers: mine.length,
      inFlight: mine.reduce((n, b) => n + (b.vendors[vendor]?.concurrency ?? 0), 0),
      shortfall,
      breaker,
      line,
    });
  }
  return out;
}

function breakerReport(vendor: Vendor, record: BreakerRecord, now: number, settings: BreakerSettings): VendorQuotaReport['breaker'] {
  const line = describeBreaker(vendor, record, now, settings);
  if (line === undefined) return undefined;
  const { openForMs, alert } = viewAt(record, now, settings);
  return { openForMs, alert, line };
}

/** The vendors whose breaker has been open longer than RESCREEN_BREAKER_ALERT_MS, one line each (for `/readyz`). */
export async function breakerAlerts(redis: Redis, prefix: string, vendors: readonly Vendor[], settings: BreakerSettings): Promise<string[]> {
  const now = await redisTime(redis);
  const out: string[] = [];
  for (const vendor of vendors) {
    const report = breakerReport(vendor, await readBreaker(redis, prefix, vendor), now, settings);
    if (report?.alert === true) out.push(report.line);
  }
  return out;
}
