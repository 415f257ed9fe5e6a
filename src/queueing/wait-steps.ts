/**
 * The job runner's steps that send one job back to wait without spending an attempt, and how long
 * it waits: a held batch (paused, capped, of another store, or waiting for another line's shared
 * answer) and a vendor outage (a gateway failure: the vendor's, not the line's).
 */
import type { JobPayload } from '../checks/types.js';
import type { BatchHeldError, VendorError } from '../errors/errors.js';
import type { Vendor } from '../vendors/types.js';
import { retryDelay, type BackoffOptions } from '../errors/retry-policy.js';
import type { Breaker } from '../quota/breaker.js';

/**
 * This job's batch may not pay for a call now: delay this job only, no attempt spent. `hold`:
 * why; `times`: how often in a row this job found its batch paused or capped (kept in its data).
 */
export interface HeldStep {
  readonly kind: 'held';
  readonly delayMs: number;
  readonly reason: string;
  readonly hold: BatchHeldError['reason'];
  readonly times?: number;
}

/**
 * This job's vendor call met a gateway failure (502/503/504, no connection, a reset before any
 * answer): delay this job, no attempt spent, nothing charged. `times`: how often its own calls met
 * one while the vendor's breaker stayed closed (kept in its data).
 */
export interface UnavailableStep {
  readonly kind: 'unavailable';
  readonly delayMs: number;
  readonly reason: string;
  readonly times?: number;
}

/** The longest a job of a paused or capped batch waits before it looks again, ms. */
export const HELD_MAX_MS = 300_000;

/**
 * A held job's delay: flat for a line waiting for another's shared answer or for a worker on its
 * store; doubling per look for a paused or capped batch (its jobs are brought back by resume and
 * raise), so a large paused backlog costs a few looks an hour, not one every few seconds.
 */
export function heldStep(payload: JobPayload, error: BatchHeldError, baseMs: number): HeldStep {
  if (error.reason === 'dedupe' || error.reason === 'store') return { kind: 'held', delayMs: baseMs, reason: error.message, hold: error.reason };
  const times = (payload.held ?? 0) + 1;
  const delayMs = Math.min(baseMs * 2 ** Math.min(times - 1, 30), Math.max(baseMs, HELD_MAX_MS));
  return { kind: 'held', delayMs, reason: error.message, hold: error.reason, times };
}

/** What {@link unavailableStep} needs of the job runner's dependencies. */
export interface OutageDeps {
  /** The vendor's circuit breaker in this process (src/quota/breaker.ts); none in unit tests without one. */
  readonly breakerOf?: ((vendor: Vendor) => Pick<Breaker, 'view' | 'settings'> | undefined) | undefined;
  /** The backoff of a job whose vendor has no breaker. */
  readonly rateLimitBackoff: BackoffOptions;
}

/**
 * A gateway failure's delay. While the vendor's breaker is open, the job comes back around its next
 * test (spread over one base wait, so they do not all come at once). While it stays closed — the
 * vendor answers other calls — the job backs off by itself (the breaker's base, doubling); after
 * `maxAttempts` such failures of its own, undefined: an ordinary retry, spending attempts, so a
 * line the vendor's gateway always refuses still ends.
 */
export function unavailableStep(
  input: { readonly payload: JobPayload; readonly maxAttempts: number },
  error: VendorError,
  deps: OutageDeps,
  random: () => number = Math.random,
): UnavailableStep | undefined {
  const breaker = deps.breakerOf?.(error.vendor);
  const backoff = breaker?.settings ?? deps.rateLimitBackoff;
  const view = breaker?.view();
  if (view !== undefined && view.phase !== 'closed') {
    return { kind: 'unavailable', delayMs: Math.round(view.testInMs + random() * backoff.baseMs), reason: error.message };
  }
  const times = (input.payload.unavailable ?? 0) + 1;
  if (times > input.maxAttempts) return undefined;
  return { kind: 'unavailable', delayMs: retryDelay(times, backoff, undefined, random), reason: error.message, times };
}
