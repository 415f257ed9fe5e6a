/**
 * The misbehaviour knobs: per-vendor quotas (429), injected failures and latency.
 */
import type { Vendor } from '../checks/registry.js';
import type { FailureKind, ResolvedSettings, SimRateLimit } from './options.js';
import { Prng } from './prng.js';

/** A quota window for one vendor. */
export class WindowLimiter {
  readonly #limit: SimRateLimit;
  // fixed window
  #windowStart = -Infinity;
  #count = 0;
  // sliding window: ring buffer of the last `max` accepted call times
  readonly #times: Float64Array | null;
  #head = 0;
  #filled = 0;

  constructor(limit: SimRateLimit) {
    this.#limit = limit;
    this.#times = limit.window === 'sliding' ? new Float64Array(limit.max) : null;
  }

  /** Takes one call; returns 0 when allowed, else the milliseconds until a call would be (> 0). */
  take(now: number): number {
    const { max, durationMs } = this.#limit;
    const times = this.#times;
    if (times === null) {
      if (now - this.#windowStart >= durationMs) {
        this.#windowStart = now;
        this.#count = 0;
      }
      if (this.#count < max) {
        this.#count += 1;
        return 0;
      }
      return Math.max(1, this.#windowStart + durationMs - now);
    }
    if (this.#filled === max) {
      const oldest = times[this.#head]!;
      if (now - oldest < durationMs) return Math.max(1, oldest + durationMs - now);
    } else {
      this.#filled += 1;
    }
    times[this.#head] = now;
    this.#head = (this.#head + 1) % max;
    return 0;
  }
}

/** Decides the fate of each vendor call: rate limit, injected failure, delay. */
export class Faults {
  #settings: ResolvedSettings;
  #limiters: Record<Vendor, WindowLimiter | null>;
  #random: () => number;
  /** Failures queued by `failNext`, consumed in order by matching calls. */
  readonly #script: { kind: FailureKind; vendor: Vendor | undefined; left: number }[] = [];

  constructor(settings: ResolvedSettings, randomSeed?: number) {
    this.#settings = settings;
    this.#limiters = limitersFor(settings);
    this.#random = randomFor(randomSeed);
  }

  update(settings: ResolvedSettings, rateLimitChanged: boolean, randomSeed?: number): void {
    this.#settings = settings;
    if (rateLimitChanged) this.#limiters = limitersFor(settings);
    if (randomSeed !== undefined) this.#random = randomFor(randomSeed);
  }

  /** 0 when the vendor's quota allows the call now, else milliseconds until it would. */
  rateLimit(vendor: Vendor, now: number): number {
    return this.#limiters[vendor]?.take(now) ?? 0;
  }

  /** Queues `count` failures of `kind` for the next calls (of `vendor`, or any). */
  failNext(count: number, kind: FailureKind, vendor?: Vendor): void {
    if (count > 0) this.#script.push({ kind, vendor, left: count });
  }

  /** The failure to inject into this call, or `null` to answer normally. */
  failure(vendor: Vendor): FailureKind | null {
    const scripted = this.#script.findIndex((s) => s.vendor === undefined || s.vendor === vendor);
    if (scripted >= 0) {
      const s = this.#script[scripted]!;
      s.left -= 1;
      if (s.left <= 0) this.#script.splice(scripted, 1);
      return s.kind;
    }
    const { failureRate, failureKinds } = this.#settings;
    if (failureRate <= 0 || this.#random() >= failureRate) return null;
    return failureKinds[Math.floor(this.#random() * failureKinds.length)] ?? null;
  }

  /** Milliseconds to wait before answering. */
  delay(): number {
    const { latencyMs, latencyJitterMs } = this.#settings;
    return latencyJitterMs > 0 ? latencyMs + this.#random() * latencyJitterMs : latencyMs;
  }
}

function limitersFor(s: ResolvedSettings): Record<Vendor, WindowLimiter | null> {
  return {
    ooto: s.rateLimit.ooto ? new WindowLimiter(s.rateLimit.ooto) : null,
    glair: s.rateLimit.glair ? new WindowLimiter(s.rateLimit.glair) : null,
  };
}

function randomFor(seed: number | undefined): () => number {
  if (seed === undefined) return Math.random;
  const rng = new Prng(seed);
  return () => rng.next();
}
