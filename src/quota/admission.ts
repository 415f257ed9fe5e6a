/**
 * Fleet-wide admission control for one vendor: every vendor call takes a permit first (one atomic
 * Redis script, GCRA virtual scheduling plus counted budget windows), so calls are spaced evenly
 * whatever the number of worker processes, and a 429 holds the vendor for every worker at once.
 *
 * A permit whose slot is a little ahead (≤ `horizonMs`) is slept for in process; a longer wait (a
 * spent daily budget, a long pause) throws {@link QuotaWaitError}, which sends the job back to the
 * queue without spending an attempt.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { CallGate, CallPermit, Vendor } from '../vendors/types.js';
import { QuotaWaitError } from '../errors/errors.js';
import { ACQUIRE, CLOCK, LATE, REFUSED, RELEASE } from './scripts.js';
import { countedWindows, spacingWindow, type Quota } from './spec.js';
import { describeWait, type WaitReason } from './state.js';

export interface AdmissionOptions {
  readonly redis: Redis;
  readonly prefix: string;
  readonly vendor: Vendor;
  /** The quota in force now (environment or `rescreen limits set`); undefined = none. */
  readonly quota: () => Quota | undefined;
  readonly log: Logger;
  /** Injected clock, ms since the epoch; default Redis TIME (one clock for the fleet). */
  readonly now?: (() => number) | undefined;
  /**
   * Added to each spaced window, ms: the next window's first call is sent this much later, so the
   * jitter between our send and the vendor's arrival time can never put quota + 1 calls in one
   * window. Default 20 (at 40/s: 0.98 of the quota).
   */
  readonly guardMs?: number | undefined;
  /**
   * A slot at most this far ahead is reserved and slept for. Default 500 ms: enough to keep the
   * quota busy, shorter than a window (see the late-call rule in `admit`), and a lowered quota
   * (`limits set`) is never overrun by more than this much of the old.
   */
  readonly horizonMs?: number | undefined;
  /** Waits up to this long are slept in process; longer ones requeue the job. Default 2000. */
  readonly inProcessWaitMs?: number | undefined;
  /** Pause after a 429 without Retry-After (GLAIR): base, doubled per consecutive pause, capped. */
  readonly backoff: { readonly baseMs: number; readonly maxMs: number };
}

/** First rate of `auto`, calls/s: low, so an unknown quota is approached from below. */
export const AUTO_INITIAL_PER_SECOND = 2;
/** `auto` never goes below this, calls/s. */
export const AUTO_MIN_PER_SECOND = 0.2;

/** The Redis hash that holds one vendor's admission state (one key: atomic, Cluster-safe). */
export function quotaStateKey(prefix: string, vendor: Vendor): string {
  return `${prefix}:quota:{${vendor}}`;
}

/** Granted: delay, slot, tat after and before it ('' unspaced); or refused: wait, reason, resume, unit, max. */
type AcquireReply = [1, string, string, string, string] | [0, string, WaitReason['kind'], string, string, string];

interface QuotaCommands {
  rescreenQuotaAcquire(key: string, ...args: (string | number)[]): Promise<AcquireReply>;
  rescreenQuotaRefused(key: string, ...args: (string | number)[]): Promise<[number, string, number, number, string]>;
  rescreenQuotaClock(key: string, now: string): Promise<string>;
  rescreenQuotaLate(key: string, lateMs: number): Promise<number>;
  rescreenQuotaRelease(key: string, ...args: (string | number)[]): Promise<number>;
}

/** Defines the admission scripts on a client (idempotent). */
export function defineQuotaCommands(redis: Redis): QuotaCommands {
  const r = redis as unknown as Partial<QuotaCommands> & Redis;
  if (r.rescreenQuotaAcquire === undefined) {
    redis.defineCommand('rescreenQuotaAcquire', { numberOfKeys: 1, lua: ACQUIRE });
    redis.defineCommand('rescreenQuotaRefused', { numberOfKeys: 1, lua: REFUSED });
    redis.defineCommand('rescreenQuotaClock', { numberOfKeys: 1, lua: CLOCK });
    redis.defineCommand('rescreenQuotaLate', { numberOfKeys: 1, lua: LATE });
    redis.defineCommand('rescreenQuotaRelease', { numberOfKeys: 1, lua: RELEASE });
  }
  return redis as unknown as QuotaCommands;
}

/** The admission control of one vendor in one process. */
export class Admission implements CallGate {
  readonly vendor: Vendor;
  readonly #o: AdmissionOptions;
  readonly #key: string;
  readonly #commands: QuotaCommands;
  readonly #guardMs: number;
  #latencyMs: number | undefined;
  #lastWaitLogged = '';
  /** A 429 pause known to this process (its own 429s, and {@link refresh}), epoch ms. */
  #heldUntil = 0;

  constructor(options: AdmissionOptions) {
    this.#o = options;
    this.vendor = options.vendor;
    this.#key = quotaStateKey(options.prefix, options.vendor);
    this.#commands = defineQuotaCommands(options.redis);
    this.#guardMs = options.guardMs ?? 20;
  }

  /** Smoothed latency of this process's calls to the vendor, ms (undefined before the first answer). */
  get latencyMs(): number | undefined {
    return this.#latencyMs;
  }

  async admit(signal?: AbortSignal): Promise<CallPermit | undefined> {
    // No quota configured: nothing to space or count, so no round trip per call; only a 429 pause
    // holds the vendor, and this process learns of other workers' pauses within a refresh (2 s).
    if (this.#o.quota() === undefined && this.#o.now === undefined && Date.now() >= this.#heldUntil) return undefined;
    for (;;) {
      signal?.throwIfAborted();
      // The slot is relative to when the script ran, which is after this moment: measuring from here
      // keeps a slow reply (a busy event loop) from pushing the send later than its slot.
      const askedAt = performance.now();
      const counted = countedArgs(this.#o.quota());
      const reply = await this.#commands.rescreenQuotaAcquire(this.#key, ...this.#acquireArgs());
      if (reply[0] === 1) {
        const deadline = askedAt + Number(reply[1]);
        const delay = deadline - performance.now();
        if (delay >= 1) await sleep(delay, undefined, { signal });
        // Woken up late (a stalled event loop), this call would land closer to the next window's
        // calls than the guard allows: push the schedule back by the excess. The reservation
        // horizon is shorter than a window, so those calls are not booked yet.
        const late = performance.now() - deadline - this.#guardMs / 4;
        if (late > 0 && Number(reply[1]) > 0) {
          this.#o.log.trace({ vendor: this.vendor, lateMs: Math.round(late) }, 'call sent late; quota schedule pushed back');
          await this.#commands.rescreenQuotaLate(this.#key, late);
        }
        if (this.#lastWaitLogged !== '') {
          this.#o.log.info({ vendor: this.vendor }, `${this.vendor}: calls resumed`);
          this.#lastWaitLogged = '';
        }
        const [, , slot, tat, tatBefore] = reply;
        return { release: () => this.#commands.rescreenQuotaRelease(this.#key, tat, tatBefore, slot, ...counted).then(() => undefined) };
      }
      const [, waitText, kind, resumeText, unit, maxText] = reply;
      const waitMs = Math.max(1, Math.ceil(Number(waitText)));
      const reason: WaitReason = { kind, resumeAt: Number(resumeText), unit: unit === '' ? undefined : unit, max: maxText === '' ? undefined : Number(maxText) };
      if (waitMs <= (this.#o.inProcessWaitMs ?? 2_000)) {
        await sleep(waitMs, undefined, { signal });
        continue;
      }
      const text = describeWait(this.vendor, reason);
      if (text !== this.#lastWaitLogged) {
        // Once per state, not once per waiting job.
        this.#o.log.info({ vendor: this.vendor, waitMs }, `${text}; jobs wait (no attempt spent)`);
        this.#lastWaitLogged = text;
      }
      throw new QuotaWaitError(this.vendor, waitMs, text);
    }
  }

  async answered(status: number, retryAfterMs: number | undefined, latencyMs: number): Promise<void> {
    this.#latencyMs = this.#latencyMs === undefined ? latencyMs : this.#latencyMs * 0.8 + latencyMs * 0.2;
    if (status !== 429) return;
    const quota = this.#o.quota();
    const [newPause, holdMs, pauses, refused] = await this.#commands.rescreenQuotaRefused(
      this.#key,
      this.#nowArg(),
      retryAfterMs === undefined ? '' : String(retryAfterMs),
      this.#o.backoff.baseMs,
      this.#o.backoff.maxMs,
      quota?.auto === true ? '1' : '0',
      AUTO_MIN_PER_SECOND,
    );
    const ms = Math.round(Number(holdMs));
    this.#heldUntil = Math.max(this.#heldUntil, Date.now() + ms);
    if (newPause === 1) {
      // One line per pause for the whole fleet: only the call that started it logs.
      this.#o.log.info(
        { vendor: this.vendor, holdMs: ms, pauses, refused },
        `${this.vendor} answered 429: every ${this.vendor} call held for ${ms} ms (pause ${pauses}; ${refused} calls refused with 429 in all)`,
      );
    } else {
      this.#o.log.debug({ vendor: this.vendor, holdMs: ms, refused }, `${this.vendor} answered 429 during a pause`);
    }
  }

  /**
   * Reads back what the worker pool needs every 2 s: the fleet's 429 pause (for the no-quota fast
   * path) and the rate `auto` has learned.
   */
  async refresh(): Promise<{ learnedPerSecond: number | undefined }> {
    const [[hold, learned], now] = await Promise.all([this.#o.redis.hmget(this.#key, 'hold', 'ar'), this.now()]);
    const left = hold === null ? 0 : Number(hold) - now;
    this.#heldUntil = left > 0 ? Date.now() + left : 0;
    return { learnedPerSecond: learned === null ? undefined : Number(learned) };
  }

  /** The clock the fleet agrees on, ms (the injected one, else Redis TIME). */
  async now(): Promise<number> {
    return Number(await this.#commands.rescreenQuotaClock(this.#key, this.#nowArg()));
  }

  #nowArg(): string {
    return this.#o.now === undefined ? '' : String(this.#o.now());
  }

  #acquireArgs(): (string | number)[] {
    const quota = this.#o.quota();
    const horizon = this.#o.horizonMs ?? 500;
    if (quota === undefined) return [this.#nowArg(), horizon, 0, 1, '0', 0, AUTO_INITIAL_PER_SECOND, 0, 1_000, 0];
    const guard = this.#guardMs;
    const spaced = spacingWindow(quota);
    const interval = spaced === undefined ? 0 : (spaced.durationMs + guard) / spaced.max;
    const counted = countedWindows(quota);
    const initial = Math.min(AUTO_INITIAL_PER_SECOND, quota.autoMaxPerSecond ?? Infinity);
    return [
      this.#nowArg(),
      horizon,
      interval,
      quota.burst,
      quota.auto ? '1' : '0',
      quota.autoMaxPerSecond ?? 0,
      initial,
      counted.length,
      ...counted.flatMap((w) => [w.unit, w.max, w.durationMs, w.calendar ? '1' : '0']),
      spaced?.durationMs ?? 1_000,
      spaced?.max ?? 0,
    ];
  }
}

/** The counted windows of a quota as RELEASE reads them: how many, then unit, duration, calendar of each. */
function countedArgs(quota: Quota | undefined): (string | number)[] {
  const counted = quota === undefined ? [] : countedWindows(quota);
  return [counted.length, ...counted.flatMap((w) => [w.unit, w.durationMs, w.calendar ? '1' : '0'])];
}
