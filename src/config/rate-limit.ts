/**
 * A vendor quota as BullMQ's limiter understands it: at most `max` jobs per `durationMs`.
 */
export interface RateLimit {
  /** Jobs allowed per window. */
  readonly max: number;
  /** Window length in milliseconds. */
  readonly durationMs: number;
}

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000 } as const;
const PATTERN = /^\s*(\d+)\s*\/\s*(s|m|h)\s*$/;

/**
 * Parses `<count>/<s|m|h>` (e.g. `15/s`, `600/m`). Returns `undefined` for malformed text so the
 * caller can name the offending variable in its own message.
 */
export function parseRateLimit(text: string): RateLimit | undefined {
  const match = PATTERN.exec(text);
  if (!match) return undefined;
  const max = Number(match[1]);
  const unit = match[2] as keyof typeof UNIT_MS;
  if (!Number.isSafeInteger(max) || max <= 0) return undefined;
  return { max, durationMs: UNIT_MS[unit] };
}

/** Calls per second that a limit allows (for ETAs and reports). */
export function perSecond(limit: RateLimit): number {
  return (limit.max * 1000) / limit.durationMs;
}

export function formatRateLimit(limit: RateLimit): string {
  const unit = limit.durationMs === 1_000 ? 's' : limit.durationMs === 60_000 ? 'm' : limit.durationMs === 3_600_000 ? 'h' : `${limit.durationMs}ms`;
  return `${limit.max}/${unit}`;
}
