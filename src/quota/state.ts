/**
 * Reading a vendor's admission state back, for `status`, `batches` and `limits show`, and the words
 * used for it in logs and on screen.
 */
import type { Redis } from '../redis/client.js';
import type { Vendor } from '../vendors/types.js';
import { countedWindows, type Quota, type QuotaUnit } from './spec.js';

/** Why a permit was not given. */
export interface WaitReason {
  readonly kind: 'hold' | 'window' | 'spacing';
  /** When calls may go again, ms since the epoch. */
  readonly resumeAt: number;
  /** For `window`: which one, and its size. */
  readonly unit?: string | undefined;
  readonly max?: number | undefined;
}

const WINDOW_WORD: Readonly<Record<QuotaUnit, string>> = { s: 'per-second', m: 'per-minute', h: 'hourly', d: 'daily' };

/** `ooto: daily quota 50000 spent; resumes 2026-12-02T00:00Z`. */
export function describeWait(vendor: Vendor, reason: WaitReason): string {
  const at = isoMinute(reason.resumeAt);
  switch (reason.kind) {
    case 'hold':
      return `${vendor}: paused after a 429; resumes ${at}`;
    case 'window': {
      const word = WINDOW_WORD[(reason.unit ?? 'd') as QuotaUnit] ?? reason.unit;
      return `${vendor}: ${word} quota ${reason.max ?? '?'} spent; resumes ${at}`;
    }
    case 'spacing':
      return `${vendor}: next call slot at ${at}`;
  }
}

/** ISO 8601 to the minute when on a whole minute (`2026-12-02T00:00Z`), else to the second. */
export function isoMinute(ms: number): string {
  const iso = new Date(Math.ceil(ms / 1000) * 1000).toISOString();
  return iso.endsWith(':00.000Z') ? `${iso.slice(0, 16)}Z` : `${iso.slice(0, 19)}Z`;
}

/** One counted window's use. */
export interface WindowUse {
  readonly unit: QuotaUnit;
  readonly max: number;
  readonly used: number;
  /** When a spent window frees again, ms; undefined when not spent. */
  readonly resumesAt: number | undefined;
}

/** What `status` shows about one vendor's quota. */
export interface QuotaState {
  readonly vendor: Vendor;
  readonly quota: Quota | undefined;
  /** A 429 pause in force until then, ms; undefined when none. */
  readonly heldUntil: number | undefined;
  readonly windows: readonly WindowUse[];
  /** `auto`: the learned rate, calls/s. */
  readonly learnedPerSecond: number | undefined;
  readonly granted: number;
  readonly refused: number;
  readonly pauses: number;
}

/** Reads the state hash; `now` is the fleet's clock (Admission.now or Date.now). */
export async function readQuotaState(redis: Redis, key: string, vendor: Vendor, quota: Quota | undefined, now: number): Promise<QuotaState> {
  const h = await redis.hgetall(key);
  const n = (field: string): number | undefined => (h[field] === undefined ? undefined : Number(h[field]));
  const hold = n('hold');
  const windows: WindowUse[] = [];
  for (const w of quota ? countedWindows(quota) : []) {
    if (w.calendar) {
      const period = Math.floor(now / w.durationMs);
      const used = n(`${w.unit}:p`) === period ? (n(`${w.unit}:n`) ?? 0) : 0;
      windows.push({ unit: w.unit, max: w.max, used, resumesAt: used >= w.max ? (period + 1) * w.durationMs : undefined });
    } else {
      const b = w.durationMs / 60;
      const low = Math.floor((now - w.durationMs) / b);
      let used = 0;
      let oldest: number | undefined;
      for (let s = 0; s < 64; s++) {
        const bn = n(`${w.unit}:b${s}`) ?? -1;
        const count = n(`${w.unit}:n${s}`) ?? 0;
        if (bn < low) continue;
        used += count;
        if (count > 0 && (oldest === undefined || bn < oldest)) oldest = bn;
      }
      const resumesAt = used >= w.max && oldest !== undefined ? (oldest + 1) * b + w.durationMs : undefined;
      windows.push({ unit: w.unit, max: w.max, used, resumesAt });
    }
  }
  return {
    vendor,
    quota,
    heldUntil: hold !== undefined && hold > now ? hold : undefined,
    windows,
    learnedPerSecond: quota?.auto === true ? n('ar') : undefined,
    granted: n('granted') ?? 0,
    refused: n('refused') ?? 0,
    pauses: n('pauses') ?? 0,
  };
}

/**
 * One line per vendor for `status`: `ooto: 15/s,50000/d — daily quota 50000 spent; resumes …`,
 * `ooto: auto — learned 19.4/s`, or undefined when there is nothing worth saying.
 */
export function describeQuotaState(s: QuotaState): string | undefined {
  const parts: string[] = [];
  if (s.heldUntil !== undefined) parts.push(describeWait(s.vendor, { kind: 'hold', resumeAt: s.heldUntil }).slice(s.vendor.length + 2));
  for (const w of s.windows) {
    if (w.resumesAt !== undefined) parts.push(describeWait(s.vendor, { kind: 'window', resumeAt: w.resumesAt, unit: w.unit, max: w.max }).slice(s.vendor.length + 2));
    else parts.push(`${WINDOW_WORD[w.unit]} ${w.used}/${w.max} used`);
  }
  if (s.learnedPerSecond !== undefined) parts.push(`learned ${s.learnedPerSecond.toFixed(1)}/s`);
  if (s.quota === undefined && parts.length === 0) return undefined;
  return `${s.vendor}: quota ${s.quota?.text ?? 'none'}${parts.length > 0 ? ` — ${parts.join('; ')}` : ''}`;
}
