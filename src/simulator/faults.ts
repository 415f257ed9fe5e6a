/**
 * The misbehaviour knobs: per-vendor quotas (429), injected failures and latency.
 */
import type { SimVendor } from './options.js';
import type { FailureKind, ResolvedSettings, SimRateLimit } from './options.js';
import { Prng } from './prng.js';

/** A vendor gateway's quota, counted the way `limit.window` says (see {@link SimRateLimit}). */
export class WindowLimiter {
  readonly #limit: SimRateLimit;
  // first-call / wall-clock windows
  #windowStart = -Infinity;
  #count = 0;
  // sliding window: ring buffer of the last `max` accepted call times
  readonly #times: Float64Array | null;
  #head = 0;
  #filled = 0;
  // token bucket
  #tokens: number;
  #refilledAt = -Infinity;

  constructor(limit: SimRateLimit) {
    this.#limit = limit;
    this.#times = limit.window === 'sliding' ? new Float64Array(limit.max) : null;
    this.#tokens = limit.burst ?? limit.max;
  }

  /** Takes one call at `now` (epoch ms); returns 0 when allowed, else the ms until a call would be (> 0). */
  take(now: number): number {
    const { max, durationMs } = this.#limit;
    switch (this.#limit.window ?? 'fixed') {
      case 'fixed':
      case 'first-call':
        if (now - this.#windowStart >= durationMs) {
          this.#windowStart = now;
          this.#count = 0;
        }
        return this.#count < max ? ((this.#count += 1), 0) : Math.max(1, this.#windowStart + durationMs - now);
      case 'wall-clock': {
        const start = Math.floor(now / durationMs) * durationMs;
        if (start !== this.#windowStart) {
          this.#windowStart = start;
          this.#count = 0;
        }
        return this.#count < max ? ((this.#count += 1), 0) : Math.max(1, start + durationMs - now);
      }
      case 'token-bucket': {
        const size = this.#limit.burst ?? max;
        const perMs = max / durationMs;
        if (this.#refilledAt !== -Infinity) this.#tokens = Math.min(size, this.#tokens + (now - this.#refilledAt) * perMs);
        this.#refilledAt = now;
        if (this.#tokens >= 1) {
          this.#tokens -= 1;
          return 0;
        }
        return Math.max(1, Math.ceil((1 - this.#tokens) / perMs));
      }
      case 'sliding': {
        const times = this.#times!;
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
  }
}

/** Most arrivals kept per vendor for `GET /__sim/arrivals`. */
const MAX_ARRIVALS = 200_000;

/**
 * The calls a vendor's quota let through, for measuring a client: their times, and the most of them
 * in any span of the quota's duration (1 s without a quota).
 */
export class Arrivals {
  readonly #times: number[] = [];
  #windowStart = 0;
  #max = 0;

  add(now: number, durationMs: number): void {
    const t = this.#times;
    t.push(now);
    if (t.length > MAX_ARRIVALS) {
      t.splice(0, t.length - MAX_ARRIVALS);
      this.#windowStart = 0;
    }
    while (this.#windowStart < t.length && now - t[this.#windowStart]! >= durationMs) this.#windowStart += 1;
    this.#max = Math.max(this.#max, t.length - this.#windowStart);
  }

  /** Most calls let through in any span of the quota's duration, so far. */
  get maxInWindow(): number {
    return this.#max;
  }

  list(): number[] {
    return [...this.#times];
  }

  reset(): void {
    this.#times.length = 0;
    this.#windowStart = 0;
    this.#max = 0;
  }
}

/** Decides the fate of each vendor call: rate limit, injected failure, delay. */
export class Faults {
  #settings: ResolvedSettings;
  #limiters: Record<SimVendor, WindowLimiter | null>;
  #random: () => number;
  /** Failures queued by `failNext`, consumed in order by matching calls. */
  readonly #script: { kind: FailureKind; vendor: SimVendor | undefined; left: number }[] = [];

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

  readonly #arrivals: Record<SimVendor, Arrivals> = { ooto: new Arrivals(), glair: new Arrivals() };

  /** 0 when the vendor's quota allows the call now (epoch ms), else milliseconds until it would. */
  rateLimit(vendor: SimVendor, now: number): number {
    const wait = this.#limiters[vendor]?.take(now) ?? 0;
    if (wait === 0) this.#arrivals[vendor].add(now, this.#settings.rateLimit[vendor]?.durationMs ?? 1_000);
    return wait;
  }

  /** The calls each vendor's quota let through (see {@link Arrivals}). */
  arrivals(vendor: SimVendor): Arrivals {
    return this.#arrivals[vendor];
  }

  resetArrivals(): void {
    this.#arrivals.ooto.reset();
    this.#arrivals.glair.reset();
  }

  /** Queues `count` failures of `kind` for the next calls (of `vendor`, or any). */
  failNext(count: number, kind: FailureKind, vendor?: SimVendor): void {
    if (count > 0) this.#script.push({ kind, vendor, left: count });
  }

  /** The failure to inject into this call, or `null` to answer normally. */
  failure(vendor: SimVendor): FailureKind | null {
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

function limitersFor(s: ResolvedSettings): Record<SimVendor, WindowLimiter | null> {
  return {
    ooto: s.rateLimit.ooto ? new WindowLimiter(s.rateLimit.ooto) : null,
    glair: s.rateLimit.glair ? new WindowLimiter(s.rateLimit.glair) : null,
  };
}

/** A seeded draw in [0, 1), or Math.random. */
export function randomFor(seed: number | undefined): () => number {
  if (seed === undefined) return Math.random;
  const rng = new Prng(seed);
  return () => rng.next();
}
