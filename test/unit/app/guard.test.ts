import { describe, expect, it } from 'vitest';
import { parseFailureGuard } from '../../../src/app/guard.js';
import { parseSince } from '../../../src/app/retry.js';
import type { ResultRecord } from '../../../src/checks/types.js';
import { CallBudgetExhaustedError, ConnectionError, MediaRejectedError, MediaUnavailableError, VendorRejectedError } from '../../../src/errors/errors.js';
import { formatRate, guardOutcome } from '../../../src/money/failure-guard.js';

describe('--max-failure-rate and --failure-window', () => {
  it('reads a percentage, with or without %, into parts per million; the window defaults to 100', () => {
    expect(parseFailureGuard({})).toBeUndefined();
    expect(parseFailureGuard({ maxFailureRate: '5%' })).toEqual({ ratePpm: 50_000, window: 100 });
    expect(parseFailureGuard({ maxFailureRate: ' 2.5 % ', failureWindow: 200 })).toEqual({ ratePpm: 25_000, window: 200 });
    expect(parseFailureGuard({ maxFailureRate: '0' })).toEqual({ ratePpm: 0, window: 100 });
    expect(formatRate(25_000)).toBe('2.5%');
    expect(formatRate(50_000)).toBe('5%');
  });

  it('refuses what it cannot use, naming the flag', () => {
    for (const rate of ['100%', '-1%', '5%%', 'five', '0.5x', '']) expect(() => parseFailureGuard({ maxFailureRate: rate }), rate).toThrow(/--max-failure-rate/);
    for (const window of [0, 10_001, 1.5]) expect(() => parseFailureGuard({ maxFailureRate: '5%', failureWindow: window })).toThrow(/--failure-window/);
    expect(() => parseFailureGuard({ failureWindow: 50 })).toThrow(/--failure-window goes with --max-failure-rate/);
  });
});

describe('what the guard counts', () => {
  const rec = (status: ResultRecord['status']) => ({ status }) as ResultRecord;
  it("a vendor's failure is 1, a vendor's answer 0, anything local nothing", () => {
    expect(guardOutcome(rec('completed'), null)).toBe('0');
    expect(guardOutcome(rec('rejected'), new VendorRejectedError({ vendor: 'ooto', status: 200, headers: {}, body: null, transactionId: null, message: 'no face', code: 5 }))).toBe('0');
    expect(guardOutcome(rec('failed'), new ConnectionError('ooto', 'reset'))).toBe('1');
    expect(guardOutcome(rec('failed'), new CallBudgetExhaustedError('spent'))).toBe('1');
    expect(guardOutcome(rec('rejected'), new MediaRejectedError('MEDIA_TOO_LARGE', 'big'))).toBeNull();
    expect(guardOutcome(rec('failed'), new MediaUnavailableError('MEDIA_NOT_FOUND', 'gone'))).toBeNull();
    expect(guardOutcome(rec('failed'), new Error('bug'))).toBeNull();
  });
});

describe('--since', () => {
  const now = new Date('2030-06-01T12:00:00Z');
  it('takes a duration back from now, or an ISO date or time', () => {
    expect(parseSince('2h', now).toISOString()).toBe('2030-06-01T10:00:00.000Z');
    expect(parseSince('90s', now).toISOString()).toBe('2030-06-01T11:58:30.000Z');
    expect(parseSince('7d', now).toISOString()).toBe('2030-05-25T12:00:00.000Z');
    expect(parseSince('2030-05-01T08:00:00Z', now).toISOString()).toBe('2030-05-01T08:00:00.000Z');
    expect(parseSince('2030-05-01T10:00:00+02:00', now).toISOString()).toBe('2030-05-01T08:00:00.000Z');
  });
  it('refuses anything else', () => {
    for (const text of ['yesterday', '2h ago', '0h', '-2h', '12', '2030-13-45', 'T08:00']) expect(() => parseSince(text, now), text).toThrow(/--since/);
  });
});
