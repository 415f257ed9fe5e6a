/**
 * A vendor's circuit breaker as the fleet shares it, and its rules, free of Redis and of any clock:
 * the record kept in Redis (./breaker-store.ts), the phase it is in at a given time, the wait after
 * each failed test, and the words for it. The Breaker (./breaker.ts) moves it from phase to phase:
 *
 *   closed ── N gateway failures in a row ──▶ open ── its wait is over ──▶ half-open: one call tests the vendor
 *     ▲                                         ▲                                   │
 *     │                                         └── the test failed: the wait doubles (up to the max)
 *     └── the test call was answered ───────────────────────────────────────────────┘
 *
 * A gateway failure is the vendor's outage, not the line's (src/errors/retry-policy.ts
 * isGatewayFailure): 502/503/504, or no connection / a reset before any answer byte.
 */
import type { BreakerSettings } from '../config/breaker.js';
import type { Vendor } from '../vendors/types.js';
import { isoMinute } from './state.js';

export type { BreakerSettings } from '../config/breaker.js';

/** What the fleet knows of one vendor's breaker (the fields of its Redis hash). */
export interface BreakerRecord {
  /** Gateway failures in a row; any answer while closed starts them again. */
  readonly failures: number;
  /** When the breaker opened — the outage began — on the fleet's clock, ms; undefined while closed. */
  readonly openedAt: number | undefined;
  /** Tests that failed since it opened. */
  readonly retests: number;
  /** When the next test may be made, ms; undefined until a test failed: `openedAt + baseMs`. */
  readonly nextTestAt: number | undefined;
  /** The last gateway failure's code: `HTTP_503`, `VENDOR_CONNECTION`, `VENDOR_TIMEOUT`. */
  readonly cause: string | undefined;
}

/** A breaker that never opened, or that closed again. */
export const CLOSED: BreakerRecord = { failures: 0, openedAt: undefined, retests: 0, nextTestAt: undefined, cause: undefined };

export type BreakerPhase = 'closed' | 'open' | 'half-open';

/** A breaker at one moment. */
export interface BreakerView {
  readonly phase: BreakerPhase;
  /** Until a call may test the vendor, ms: 0 when closed or half-open. */
  readonly testInMs: number;
  /** How long it has been open, ms; 0 when closed. */
  readonly openForMs: number;
  /** Open for longer than the alert setting (RESCREEN_BREAKER_ALERT_MS). */
  readonly alert: boolean;
}

/** Reads the Redis hash (`HGETALL`: `{}` when closed). */
export function parseRecord(hash: Readonly<Record<string, string>>): BreakerRecord {
  const n = (field: string): number | undefined => (hash[field] === undefined || hash[field] === '' ? undefined : Number(hash[field]));
  return { failures: n('failures') ?? 0, openedAt: n('openedAt'), retests: n('retests') ?? 0, nextTestAt: n('nextTestAt'), cause: hash.cause };
}

/** The wait before the next test after `retests` failed ones, ms: the base, doubled per failed test, capped. */
export function waitAfter(retests: number, settings: BreakerSettings): number {
  return Math.min(settings.baseMs * 2 ** Math.min(retests, 40), settings.maxMs);
}

/** When the next test may be made, ms (undefined while closed). */
export function nextTestAt(record: BreakerRecord, settings: BreakerSettings): number | undefined {
  if (record.openedAt === undefined) return undefined;
  return record.nextTestAt ?? record.openedAt + waitAfter(0, settings);
}

/** The phase of `record` at `now` (the fleet's clock, ms). */
export function viewAt(record: BreakerRecord, now: number, settings: BreakerSettings): BreakerView {
  const testAt = nextTestAt(record, settings);
  if (record.openedAt === undefined || testAt === undefined) return { phase: 'closed', testInMs: 0, openForMs: 0, alert: false };
  const openForMs = Math.max(0, now - record.openedAt);
  const testInMs = Math.max(0, testAt - now);
  return { phase: testInMs > 0 ? 'open' : 'half-open', testInMs, openForMs, alert: openForMs >= settings.alertMs };
}

/** `45 s`, `16 min`, `2 h 5 min`. */
export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const min = Math.round(s / 60);
  return min < 120 ? `${min} min` : `${Math.floor(min / 60)} h ${min % 60} min`;
}

/**
 * One line for `status`, `/readyz`, `work --until-idle` and the log, or undefined when closed:
 * `ooto: unreachable for 16 min, longer than RESCREEN_BREAKER_ALERT_MS (15 min) (since 2026-12-01T02:00Z, last HTTP_503): its calls are held, its lines stay queued with no attempt spent; next test at 2026-12-01T02:17:05Z`.
 */
export function describeBreaker(vendor: Vendor, record: BreakerRecord, now: number, settings: BreakerSettings): string | undefined {
  const view = viewAt(record, now, settings);
  if (view.phase === 'closed' || record.openedAt === undefined) return undefined;
  const alert = view.alert ? `, longer than RESCREEN_BREAKER_ALERT_MS (${duration(settings.alertMs)})` : '';
  const next = view.phase === 'open' ? `next test at ${isoMinute(now + view.testInMs)}` : 'a call tests it now';
  return (
    `${vendor}: unreachable for ${duration(view.openForMs)}${alert} (since ${isoMinute(record.openedAt)}, last ${record.cause ?? 'gateway failure'}): ` +
    `its calls are held, its lines stay queued with no attempt spent; ${next}`
  );
}
