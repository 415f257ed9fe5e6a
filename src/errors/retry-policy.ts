/**
 * The one retry predicate and the one delay function (after openai-node `shouldRetry` and ky `retry`).
 * Pure: unit-tested without a network or Redis.
 */
import {
  AnswerTooLargeError,
  BatchCancelledError,
  BatchHeldError,
  AuthenticationError,
  ConnectionError,
  InternalServerError,
  MediaFetchError,
  MediaRejectedError,
  MediaUnavailableError,
  PermissionDeniedError,
  QuotaWaitError,
  RateLimitedError,
  TimeoutError,
  VendorError,
  VendorRejectedError,
} from './errors.js';

/**
 * What to do with an error:
 * - `retry`: transient; try again (p-retry inside the call, then BullMQ attempts with backoff).
 * - `rate-limited`: 429; pause the queue and requeue the job without spending an attempt.
 * - `deferred`: no quota slot for a while; requeue the job without spending an attempt.
 * - `held`: this batch may not pay for another call now (its cap); delay this job only, no attempt spent.
 * - `stop-vendor`: 401/403; every job of this vendor would fail: stop taking them, leave them queued.
 * - `unavailable`: the vendor's gateway failed ({@link isGatewayFailure}): its outage, not the line's;
 *   the job goes back without spending an attempt while the vendor's circuit breaker holds its calls.
 * - `rejected`: a final answer that the media is unusable.
 * - `failed`: final, no usable answer (malformed vendor answer, an answer over RESCREEN_MAX_ANSWER_BYTES,
 *   unreadable media, call budget used up, any unknown error).
 */
export type Disposition = 'retry' | 'rate-limited' | 'deferred' | 'held' | 'stop-vendor' | 'unavailable' | 'rejected' | 'failed';

export function dispositionOf(error: unknown): Disposition {
  if (error instanceof RateLimitedError) return 'rate-limited';
  if (error instanceof QuotaWaitError) return 'deferred';
  if (error instanceof BatchHeldError) return 'held';
  if (error instanceof AuthenticationError || error instanceof PermissionDeniedError) return 'stop-vendor';
  if (error instanceof VendorRejectedError || error instanceof MediaRejectedError) return 'rejected';
  // A vendor that answered this much once will do it again, and every try is paid.
  if (error instanceof AnswerTooLargeError) return 'failed';
  if (isGatewayFailure(error)) return 'unavailable';
  if (error instanceof ConnectionError || error instanceof TimeoutError || error instanceof InternalServerError) return 'retry';
  if (error instanceof MediaFetchError) return 'retry';
  if (error instanceof MediaUnavailableError) return 'failed';
  return 'failed';
}

/**
 * Where a retry would happen: `attempt` — a later BullMQ attempt (with backoff, bounded by the
 * line's call budget); `in-call` — a quick retry inside the same attempt, which is only ever made
 * when the failed request provably never reached the vendor, so it cannot have been billed.
 */
export type RetryScope = 'attempt' | 'in-call';

/** True when another try may succeed (and, `in-call`, costs nothing). The only retry predicate in the code base. */
export function shouldRetry(error: unknown, scope: RetryScope = 'attempt'): boolean {
  const disposition = dispositionOf(error);
  if (disposition !== 'retry' && disposition !== 'unavailable') return false;
  return scope === 'attempt' || notSent(error);
}

/** An answer of a gateway in front of the vendor failing: 502, 503, 504. */
export function isGatewayStatus(status: number): boolean {
  return status === 502 || status === 503 || status === 504;
}

/**
 * The vendor, or the way to it, is down — not this call: HTTP 502/503/504, or no connection or a
 * reset before any answer byte (refused, DNS, unreachable, connect timeout, TLS handshake, a socket
 * closed before the status line). Such a failure feeds the vendor's circuit breaker
 * (src/quota/breaker.ts), costs the line nothing and spends none of its attempts.
 */
export function isGatewayFailure(error: unknown): boolean {
  if (error instanceof InternalServerError) return isGatewayStatus(error.status);
  if (error instanceof ConnectionError) return !error.answerStarted;
  return error instanceof TimeoutError && !error.requestSent;
}

/** The vendor call provably never reached the vendor (refused, DNS, unreachable, connect timeout, TLS handshake). */
export function notSent(error: unknown): boolean {
  return (error instanceof ConnectionError || error instanceof TimeoutError) && !error.requestSent;
}

/**
 * How a failed vendor call counts against the line's call budget (RESCREEN_MAX_CALLS_PER_LINE):
 * - `free`: it provably did not reach the vendor, the vendor refused it outright (429, 401/403), or its
 *   gateway failed ({@link isGatewayFailure}: the outage is the vendor's, not a paid call);
 * - `possibly-billed`: it was sent and no answer came back (timeout, reset): the vendor may have done the work;
 * - `answered`: the vendor answered (5xx, an engine error, a malformed body, an answer over the cap…).
 */
export function callCost(error: unknown): 'free' | 'possibly-billed' | 'answered' {
  if (notSent(error) || isGatewayFailure(error) || error instanceof BatchCancelledError) return 'free';
  const disposition = dispositionOf(error);
  // A refused call (429, 401/403) and one that waited for a quota slot and was never sent cost nothing.
  if (disposition === 'rate-limited' || disposition === 'stop-vendor' || disposition === 'deferred' || disposition === 'held') return 'free';
  if (error instanceof ConnectionError || error instanceof TimeoutError) return 'possibly-billed';
  // An abort of ours, or an error we do not recognise: we cannot tell, so count it as billed.
  if (!(error instanceof VendorError)) return 'possibly-billed';
  return 'answered';
}

export interface BackoffOptions {
  /** Delay before the first retry, ms. */
  readonly baseMs: number;
  /** Upper bound of any one delay, ms. */
  readonly maxMs: number;
}

/**
 * Exponential backoff with full jitter: a uniform draw in [base·2^(n−1) / 2, base·2^(n−1)], capped.
 * `attempt` is 1 for the first retry. A vendor's `Retry-After` wins when given (still capped).
 * `random` is injectable for tests.
 */
export function retryDelay(
  attempt: number,
  options: BackoffOptions,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs >= 0) {
    return Math.min(retryAfterMs, options.maxMs);
  }
  const exp = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/**
 * `Retry-After` as milliseconds: delta-seconds or an HTTP date. `undefined` when absent or unreadable.
 */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
