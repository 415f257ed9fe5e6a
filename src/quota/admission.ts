/**
 * Fleet-wide admission control for one vendor: every vendor call takes a permit first (one atomic
 * Redis script, src/redis/lua/quota-acquire-1.lua: GCRA virtual scheduling plus counted budget
 * windows), so calls are spaced evenly whatever the number of worker processes, and a 429 holds the
 * vendor for every worker at once (quota-refused-1.lua).
 *
 * A permit whose slot is a little ahead (≤ `horizonMs`) is slept for in process; a longer wait (a
 * spent daily budget, a long pause) throws {@link QuotaWaitError}, which sends the job back to the
 * queue without spending an attempt.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from '../redis/client.js';
import type { Logger } from 'pino';
import type { CallGate, CallPermit, Vendor } from '../vendors/types.js';
import { QuotaWaitError } from '../errors/errors.js';
import { quotaStateKey } from '../redis/keys.js';
import { scripts } from '../redis/scripts.js';
import { countedWindows, spacingWindow, type Quota } from './spec.js';
import { describeWait, type WaitReason } from './state.js';
import type { Breaker } from './breaker.js';

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
  /** The vendor's circuit breaker (./breaker.ts): asked before the quota, told every call's outcome. */
  readonly breaker?: Breaker | undefined;
}

/** First rate of `auto`, calls/s: low, so an unknown quota is approached from below. */
export const AUTO_INITIAL_PER_SECOND = 2;
/** `auto` never goes below this, calls/s. */
export const AUTO_MIN_PER_SECOND = 0.2;

/** The admission control of one vendor in one process. */
export class Admission implements CallGate {
  readonly vendor: Vendor;
  readonly #o: AdmissionOptions;
  readonly #key: string;
  readonly #guardMs: number;
  #latencyMs: number | undefined;
  #lastWaitLogged = '';
  /** A 429 pause known to this process (its own 429s, and {@link refresh}), epoch ms. */
  #heldUntil = 0;

  constructor(options: AdmissionOptions) {
    this.#o = options;
    this.vendor = options.vendor;
    this.#key = quotaStateKey(options.prefix, options.vendor);
    this.#guardMs = options.guardMs ?? 20;
  }

  /** Smoothed latency of this process's calls to the vendor, ms (undefined before the first answer). */
  get latencyMs(): number | undefined {
    return this.#latencyMs;
  }

  /** The vendor's circuit breaker, when it has one. */
  get breaker(): Breaker | undefined {
    return this.#o.breaker;
  }

  async admit(signal?: AbortSignal): Promise<CallPermit | undefined> {
    // An open breaker holds the call before any permit is taken; half-open, this call may be its test.
    const test = await this.#o.breaker?.admit();
    if (test === undefined) return this.#permit(signal);
    try {
      return test.with(await this.#permit(signal));
    } catch (error) {
      await test.release();
      throw error;
    }
  }

  async #permit(signal?: AbortSignal): Promise<CallPermit | undefined> {
    // No quota configured: nothing to space or count, so no round trip per call; only a 429 pause
    // holds the vendor, and this process learns of other workers' pauses within a refresh (2 s).
    if (this.#o.quota() === undefined && this.#o.now === undefined && Date.now() >= this.#heldUntil) return undefined;
    for (;;) {
      signal?.throwIfAborted();
      // The slot is relative to when the script ran, which is after this moment: measuring from here
      // keeps a slow reply (a busy event loop) from pushing the send later than its slot.
      const askedAt = performance.now();
      const windows = releaseWindows(this.#o.quota());
      const reply = await scripts.quotaAcquire(this.#o.redis, this.#acquireArgs());
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
          await scripts.quotaLate(this.#o.redis, { stateKey: this.#key, lateMs: late });
        }
        if (this.#lastWaitLogged !== '') {
          this.#o.log.info({ vendor: this.vendor }, `${this.vendor}: calls resumed`);
          this.#lastWaitLogged = '';
        }
        const [, , slot, tat, tatBefore] = reply;
        const release = { stateKey: this.#key, tatAfter: tat, tatBefore, slotMs: slot, windows };
        return { release: () => scripts.quotaRelease(this.#o.redis, release).then(() => undefined) };
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

  async answered(status: number, retryAfterMs: number | undefined, latencyMs: number, permit?: CallPermit): Promise<void> {
    this.#latencyMs = this.#latencyMs === undefined ? latencyMs : this.#latencyMs * 0.8 + latencyMs * 0.2;
    await this.#o.breaker?.answered(status, permit);
    if (status !== 429) return;
    const quota = this.#o.quota();
    const [newPause, holdMs, pauses, refused] = await scripts.quotaRefused(this.#o.redis, {
      stateKey: this.#key,
      clockMs: this.#nowArg(),
      retryAfterMs: retryAfterMs === undefined ? '' : String(retryAfterMs),
      baseMs: this.#o.backoff.baseMs,
      maxMs: this.#o.backoff.maxMs,
      auto: quota?.auto === true ? '1' : '0',
      autoMin: AUTO_MIN_PER_SECOND,
    });
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

  async unanswered(error: unknown, permit?: CallPermit): Promise<void> {
    await this.#o.breaker?.unanswered(error, permit);
  }

  /**
   * Reads back what the worker pool needs every 2 s: the fleet's 429 pause (for the no-quota fast
   * path), the rate `auto` has learned, and the breaker's state.
   */
  async refresh(): Promise<{ learnedPerSecond: number | undefined }> {
    const [[hold, learned], now] = await Promise.all([this.#o.redis.hmget(this.#key, 'hold', 'ar'), this.now(), this.#o.breaker?.refresh()]);
    const left = hold === null ? 0 : Number(hold) - now;
    this.#heldUntil = left > 0 ? Date.now() + left : 0;
    return { learnedPerSecond: learned === null ? undefined : Number(learned) };
  }

  /** The clock the fleet agrees on, ms (the injected one, else Redis TIME). */
  async now(): Promise<number> {
    return Number(await scripts.quotaClock(this.#o.redis, { stateKey: this.#key, clockMs: this.#nowArg() }));
  }

  #nowArg(): string {
    return this.#o.now === undefined ? '' : String(this.#o.now());
  }

  #acquireArgs(): Parameters<typeof scripts.quotaAcquire>[1] {
    const quota = this.#o.quota();
    const base = { stateKey: this.#key, clockMs: this.#nowArg(), horizonMs: this.#o.horizonMs ?? 500 };
    if (quota === undefined) {
      return { ...base, intervalMs: 0, burst: 1, auto: '0', autoMax: 0, autoInitial: AUTO_INITIAL_PER_SECOND, spanMs: 1_000, spanMax: 0, windows: [] };
    }
    const spaced = spacingWindow(quota);
    return {
      ...base,
      intervalMs: spaced === undefined ? 0 : (spaced.durationMs + this.#guardMs) / spaced.max,
      burst: quota.burst,
      auto: quota.auto ? '1' : '0',
      autoMax: quota.autoMaxPerSecond ?? 0,
      autoInitial: Math.min(AUTO_INITIAL_PER_SECOND, quota.autoMaxPerSecond ?? Infinity),
      spanMs: spaced?.durationMs ?? 1_000,
      spanMax: spaced?.max ?? 0,
      windows: countedWindows(quota).flatMap((w) => [w.unit, w.max, w.durationMs, w.calendar ? '1' : '0']),
    };
  }
}

/** The counted windows of a quota as quota-release reads them: unit, duration, calendar of each. */
function releaseWindows(quota: Quota | undefined): (string | number)[] {
  const counted = quota === undefined ? [] : countedWindows(quota);
  return counted.flatMap((w) => [w.unit, w.durationMs, w.calendar ? '1' : '0']);
}
