import { describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  ConnectionError,
  InternalServerError,
  MalformedResponseError,
  MediaFetchError,
  MediaRejectedError,
  MediaUnavailableError,
  PermissionDeniedError,
  RateLimitedError,
  TimeoutError,
  VendorApiError,
  VendorRejectedError,
} from '../../../src/errors/errors.js';
import { callCost, dispositionOf, parseRetryAfter, retryDelay, shouldRetry } from '../../../src/errors/retry-policy.js';

const api = { vendor: 'ooto' as const, headers: {}, body: null, transactionId: 't', message: 'm' };

describe('dispositionOf / shouldRetry', () => {
  it.each([
    [new ConnectionError('ooto', 'reset mid-answer', { answerStarted: true }), 'retry'],
    [new TimeoutError('glair', 'slow'), 'retry'],
    [new InternalServerError({ ...api, status: 500 }), 'retry'],
    // The vendor's gateway, not the call: its circuit breaker holds the vendor, the job spends nothing.
    [new InternalServerError({ ...api, status: 503 }), 'unavailable'],
    [new ConnectionError('ooto', 'reset before the status line'), 'unavailable'],
    [new ConnectionError('ooto', 'refused', { requestSent: false }), 'unavailable'],
    [new TimeoutError('ooto', 'connect timeout', { requestSent: false }), 'unavailable'],
    [new MediaFetchError('MEDIA_FETCH', 'x'), 'retry'],
    [new RateLimitedError({ ...api, status: 429, retryAfterMs: 1000 }), 'rate-limited'],
    [new AuthenticationError({ ...api, status: 401 }), 'stop-vendor'],
    [new PermissionDeniedError({ ...api, status: 403 }), 'stop-vendor'],
    [new VendorRejectedError({ ...api, status: 400, code: 5 }), 'rejected'],
    [new MediaRejectedError('MEDIA_EMPTY', 'empty'), 'rejected'],
    [new MediaUnavailableError('MEDIA_NOT_FOUND', 'missing'), 'failed'],
    [new MalformedResponseError('ooto', 200, {}, 't', 'bad'), 'failed'],
    [new VendorApiError({ ...api, status: 400 }), 'failed'],
    [new Error('boom'), 'failed'],
    ['a string', 'failed'],
  ])('%s → %s', (error, expected) => {
    expect(dispositionOf(error)).toBe(expected);
    expect(shouldRetry(error)).toBe(expected === 'retry' || expected === 'unavailable');
  });
});

describe('retryDelay', () => {
  const opts = { baseMs: 1000, maxMs: 30_000 };
  it('grows exponentially with full jitter in [exp/2, exp]', () => {
    expect(retryDelay(1, opts, undefined, () => 0)).toBe(500);
    expect(retryDelay(1, opts, undefined, () => 1)).toBe(1000);
    expect(retryDelay(3, opts, undefined, () => 1)).toBe(4000);
    expect(retryDelay(3, opts, undefined, () => 0)).toBe(2000);
  });
  it('is capped', () => {
    expect(retryDelay(20, opts, undefined, () => 1)).toBe(30_000);
  });
  it('honours Retry-After, capped', () => {
    expect(retryDelay(1, opts, 7000)).toBe(7000);
    expect(retryDelay(1, opts, 90_000)).toBe(30_000);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter('0.5')).toBe(500);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

describe('in-call retries and the call budget', () => {
  it('retries inside a call only what never reached the vendor', () => {
    expect(shouldRetry(new ConnectionError('ooto', 'refused', { requestSent: false }), 'in-call')).toBe(true);
    expect(shouldRetry(new TimeoutError('ooto', 'connect', { requestSent: false }), 'in-call')).toBe(true);
    expect(shouldRetry(new ConnectionError('ooto', 'reset'), 'in-call')).toBe(false);
    expect(shouldRetry(new ConnectionError('ooto', 'reset mid-answer', { answerStarted: true }), 'in-call')).toBe(false);
    expect(shouldRetry(new TimeoutError('ooto', 'slow'), 'in-call')).toBe(false);
    expect(shouldRetry(new InternalServerError({ ...api, status: 503 }), 'in-call')).toBe(false);
    expect(shouldRetry(new InternalServerError({ ...api, status: 503 }))).toBe(true);
  });

  it('counts what may have been billed', () => {
    expect(callCost(new ConnectionError('ooto', 'refused', { requestSent: false }))).toBe('free');
    expect(callCost(new RateLimitedError({ ...api, status: 429, retryAfterMs: 1 }))).toBe('free');
    expect(callCost(new TimeoutError('ooto', 'slow'))).toBe('possibly-billed');
    expect(callCost(new ConnectionError('ooto', 'reset mid-answer', { answerStarted: true }))).toBe('possibly-billed');
    expect(callCost(new InternalServerError({ ...api, status: 500 }))).toBe('answered');
    // A gateway failure is the vendor's outage: never a paid call.
    expect(callCost(new ConnectionError('ooto', 'reset before the status line'))).toBe('free');
    expect(callCost(new InternalServerError({ ...api, status: 502 }))).toBe('free');
  });
});
