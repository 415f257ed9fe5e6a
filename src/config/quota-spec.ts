/**
 * A vendor quota as the user writes it (`OOTO_RATE_LIMIT`, `rescreen limits set`):
 *
 *   15/s                      at most 15 calls in any rolling second, spaced (no burst)
 *   15/s burst 5              the same, but up to 5 calls may go back to back
 *   15/s,800/m,50000/d        every window holds; /d is a budget per UTC calendar day
 *   auto                      learn the rate from 429s (no published quota)
 *   auto,max 50/s,50000/d     learn it, never above 50/s, and within the daily budget
 *
 * Units: s, m, h (rolling windows) and d (calendar day in UTC: resets at 00:00 UTC).
 */


/** One window of a quota. */
export interface QuotaWindow {
  /** Calls allowed per window. */
  readonly max: number;
  readonly unit: QuotaUnit;
  /** Window length, ms. */
  readonly durationMs: number;
  /** True for `/d`: counted per UTC calendar day, not over a rolling 24 h. */
  readonly calendar: boolean;
}

export type QuotaUnit = 's' | 'm' | 'h' | 'd';

/** A parsed quota. */
export interface Quota {
  /** Every window, as written (auto's `max` not included). */
  readonly windows: readonly QuotaWindow[];
  /** Calls that may go back to back (GCRA burst tolerance); 1 = evenly spaced. */
  readonly burst: number;
  /** Learn the rate (`auto`); the windows still hold as ceilings and budgets. */
  readonly auto: boolean;
  /** `auto,max N/u`: the learned rate never exceeds this, calls/s. */
  readonly autoMaxPerSecond: number | undefined;
  /** The text it was parsed from, normalised (`15/s,800/m burst 5`). */
  readonly text: string;
}

export const UNIT_MS: Readonly<Record<QuotaUnit, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

const WINDOW = /^(\d+)\s*\/\s*(s|m|h|d)$/;
const BURST = /^burst\s+(\d+)$/;
const MAX = /^max\s+(\d+)\s*\/\s*(s|m|h|d)$/;

/** What a quota text must look like, for error messages. */
export const QUOTA_SYNTAX = '<count>/<s|m|h|d>[,…] [burst N], or auto[,max N/s]; e.g. 15/s, 15/s burst 5, 15/s,800/m,50000/d, auto,max 50/s';

/**
 * Parses a quota text. Returns an error message (without the text itself) when malformed, so the
 * caller can name its own variable or flag.
 */
export function parseQuota(input: string): Quota | { readonly error: string } {
  const text = input.trim().toLowerCase();
  if (text === '') return { error: 'is empty' };
  // `burst N` may follow the last window with a space, or stand as its own comma-separated part.
  const parts = text
    .split(',')
    .flatMap((p) => {
      const m = /^(.*?)\s+(burst\s+\d+)$/.exec(p.trim());
      return m ? [m[1]!, m[2]!] : [p];
    })
    .map((p) => p.trim().replace(/\s+/g, ' '))
    .filter((p) => p !== '');
  const windows: QuotaWindow[] = [];
  let burst: number | undefined;
  let auto = false;
  let autoMaxPerSecond: number | undefined;
  for (const part of parts) {
    let m: RegExpExecArray | null;
    if (part === 'auto') {
      auto = true;
    } else if ((m = MAX.exec(part)) !== null) {
      const max = Number(m[1]);
      if (!(max > 0)) return { error: 'max must be a positive count' };
      autoMaxPerSecond = (max * 1000) / UNIT_MS[m[2] as QuotaUnit];
    } else if ((m = BURST.exec(part)) !== null) {
      burst = Number(m[1]);
      if (!(Number.isSafeInteger(burst) && burst >= 1)) return { error: 'burst must be a whole number ≥ 1' };
    } else if ((m = WINDOW.exec(part)) !== null) {
      const max = Number(m[1]);
      const unit = m[2] as QuotaUnit;
      if (!(Number.isSafeInteger(max) && max > 0)) return { error: 'a window needs a positive whole count' };
      if (windows.some((w) => w.unit === unit)) return { error: `names the /${unit} window twice` };
      windows.push({ max, unit, durationMs: UNIT_MS[unit], calendar: unit === 'd' });
    } else {
      return { error: `must read ${QUOTA_SYNTAX}` };
    }
  }
  if (autoMaxPerSecond !== undefined && !auto) return { error: '"max" only goes with auto' };
  if (!auto && windows.length === 0) return { error: `must name at least one window: ${QUOTA_SYNTAX}` };
  windows.sort((a, b) => a.durationMs - b.durationMs);
  const quota = { windows, burst: burst ?? 1, auto, autoMaxPerSecond };
  return { ...quota, text: formatQuota(quota) };
}

/** True when `parseQuota` failed. */
export function isQuotaError(q: Quota | { readonly error: string }): q is { readonly error: string } {
  return 'error' in q;
}

/** Normalised text of a quota. */
export function formatQuota(q: Pick<Quota, 'windows' | 'burst' | 'auto' | 'autoMaxPerSecond'>): string {
  const parts: string[] = [];
  if (q.auto) parts.push('auto');
  if (q.autoMaxPerSecond !== undefined) parts.push(`max ${trimNumber(q.autoMaxPerSecond)}/s`);
  for (const w of q.windows) parts.push(`${w.max}/${w.unit}`);
  return parts.join(',') + (q.burst > 1 ? ` burst ${q.burst}` : '');
}

/**
 * The windows enforced by spacing calls evenly (GCRA): the rolling /s and /m windows. Spacing at
 * the slowest of their rates keeps every one of them. Returns the spacing window, or undefined when
 * the quota has only budgets (/h, /d), which are counted instead.
 */
export function spacingWindow(q: Quota): QuotaWindow | undefined {
  let slowest: QuotaWindow | undefined;
  for (const w of q.windows) {
    if (w.unit !== 's' && w.unit !== 'm') continue;
    if (slowest === undefined || w.durationMs / w.max > slowest.durationMs / slowest.max) slowest = w;
  }
  return slowest;
}

/** The windows that are counted (not spaced): /h rolling, /d per UTC day. */
export function countedWindows(q: Quota): QuotaWindow[] {
  return q.windows.filter((w) => w.unit === 'h' || w.unit === 'd');
}

/**
 * The steady rate the quota allows, calls/s (for ETAs and sizing); `undefined` when `auto` has no
 * ceiling yet or the quota has only budgets.
 */
export function steadyPerSecond(q: Quota): number | undefined {
  if (q.auto) return q.autoMaxPerSecond;
  const w = spacingWindow(q);
  return w === undefined ? undefined : (w.max * 1000) / w.durationMs;
}

function trimNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(3).replace(/0+$/, '');
}
