/**
 * A vendor quota as BullMQ's limiter and the simulator's gateway understand it: at most `max` calls
 * per `durationMs`. Read from text by the one quota parser (./quota-spec.ts).
 */
import { isQuotaError, parseQuota, spacingWindow, type Quota } from './quota-spec.js';

export interface RateLimit {
  /** Jobs allowed per window. */
  readonly max: number;
  /** Window length in milliseconds. */
  readonly durationMs: number;
}

/**
 * Parses a quota of one rolling window and nothing else, `<count>/<s|m|h>` (e.g. `15/s`, `600/m`),
 * with the quota parser. Returns `undefined` for anything else (malformed, `/d`, `burst`, `auto`,
 * several windows) so the caller can name the offending variable or flag in its own message.
 */
export function parseRateLimit(text: string): RateLimit | undefined {
  const quota = parseQuota(text);
  return isQuotaError(quota) ? undefined : singleWindow(quota);
}

/** The quota's one rolling window as a plain rate; `undefined` when it is anything more (or a calendar day). */
function singleWindow(q: Quota): RateLimit | undefined {
  const [window, ...more] = q.windows;
  if (q.auto || q.burst !== 1 || window === undefined || more.length > 0 || window.calendar) return undefined;
  return { max: window.max, durationMs: window.durationMs };
}

/** Calls per second that a limit allows (for ETAs and reports). */
export function perSecond(limit: RateLimit): number {
  return (limit.max * 1000) / limit.durationMs;
}

export function formatRateLimit(limit: RateLimit): string {
  const unit = limit.durationMs === 1_000 ? 's' : limit.durationMs === 60_000 ? 'm' : limit.durationMs === 3_600_000 ? 'h' : `${limit.durationMs}ms`;
  return `${limit.max}/${unit}`;
}

/** The spaced window of a quota as a plain rate, for estimates (`auto`: its ceiling, if any). */
export function plainRate(q: Quota | undefined): RateLimit | undefined {
  if (q === undefined) return undefined;
  if (q.auto) return q.autoMaxPerSecond === undefined ? undefined : { max: q.autoMaxPerSecond, durationMs: 1_000 };
  const w = spacingWindow(q);
  return w === undefined ? undefined : { max: w.max, durationMs: w.durationMs };
}
