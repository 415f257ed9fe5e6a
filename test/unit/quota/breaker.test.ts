/**
 * The vendor circuit breaker's state machine (src/quota/breaker.ts) on an injected clock and an
 * in-memory store: closed costs nothing per call; N gateway failures in a row open it; open, every
 * call is held with the wait until the test; half-open, exactly one call (fleet-wide) tests the
 * vendor; a failed test doubles the wait up to the max; an answered test closes it. One log line
 * when it opens, one when it closes, one at the alert — per process, whatever the traffic.
 */
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { ConnectionError, InternalServerError, QuotaWaitError, TimeoutError } from '../../../src/errors/errors.js';
import { Breaker, type TestCall } from '../../../src/quota/breaker.js';
import type { BreakerSettings } from '../../../src/quota/breaker-state.js';
import { MemoryBreakerStore } from '../../helpers/memory-breaker-store.js';

const SETTINGS: BreakerSettings = { failures: 5, baseMs: 1_000, maxMs: 8_000, alertMs: 60_000 };

interface LogLine {
  level: number;
  breaker?: string;
  msg: string;
}

function setup(settings: BreakerSettings = SETTINGS) {
  let now = 1_000_000;
  const clock = { now: () => now, advance: (ms: number) => void (now += ms) };
  const store = new MemoryBreakerStore(clock.now);
  const lines: LogLine[] = [];
  const process = (name = 'p1') => {
    const log = pino({ level: 'debug', base: { process: name } }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
    return new Breaker({ vendor: 'ooto', store, settings, testLeaseMs: 30_000, log, now: clock.now });
  };
  const said = (kind: string) => lines.filter((l) => l.breaker === kind);
  return { clock, store, lines, said, breaker: process(), process };
}

const gateway503 = (breaker: Breaker, permit?: TestCall) => breaker.answered(503, permit);
const refused = () => new ConnectionError('ooto', 'connection refused', { requestSent: false });

async function heldFor(breaker: Breaker): Promise<number> {
  const error: unknown = await breaker.admit().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(QuotaWaitError);
  return (error as QuotaWaitError).waitMs;
}

describe('the vendor circuit breaker', () => {
  it('closed, it reads the fleet\'s record once, then lets every call through without a round trip, and an answer starts the count again', async () => {
    const { breaker, store } = setup();
    for (let i = 0; i < 100; i++) expect(await breaker.admit()).toBeUndefined();
    for (let i = 0; i < 100; i++) await breaker.answered(200);
    expect(store.calls).toBe(1);
    for (let i = 0; i < 4; i++) await gateway503(breaker);
    await breaker.answered(200);
    expect(store.record.failures).toBe(0);
    for (let i = 0; i < 4; i++) await breaker.unanswered(refused());
    expect(breaker.view().phase).toBe('closed');
    expect(await breaker.admit()).toBeUndefined();
  });

  it('opens after N gateway failures in a row and holds every call until the test', async () => {
    const { breaker, clock, said, store } = setup();
    for (let i = 0; i < 3; i++) await gateway503(breaker);
    await breaker.unanswered(refused());
    expect(breaker.view().phase).toBe('closed');
    // A timeout, a reset mid-answer and a 500 are the call's, not the gateway's: not counted.
    await breaker.unanswered(new TimeoutError('ooto', 'slow'));
    await breaker.unanswered(new ConnectionError('ooto', 'reset mid-answer', { answerStarted: true }));
    expect(store.record.failures).toBe(4);
    await breaker.unanswered(new ConnectionError('ooto', 'reset before the status line'));
    expect(breaker.view()).toMatchObject({ phase: 'open', testInMs: 1_000 });
    expect(store.record).toMatchObject({ openedAt: clock.now(), cause: 'VENDOR_CONNECTION' });
    expect(await heldFor(breaker)).toBe(1_000);
    clock.advance(400);
    expect(await heldFor(breaker)).toBe(600);
    expect(said('open')).toHaveLength(1);
    expect(said('open')[0]!.level).toBe(40);
    expect(said('open')[0]!.msg).toContain('5 gateway failures in a row (last VENDOR_CONNECTION)');
  });

  it('half-open lets exactly one call test the vendor; a failed test doubles the wait up to the max; an answer closes it', async () => {
    const { breaker, clock, said, store, process } = setup();
    const other = process('p2');
    for (let i = 0; i < 5; i++) await gateway503(breaker);
    const waits: number[] = [];
    for (let round = 0; round < 6; round++) {
      clock.advance(await heldFor(breaker));
      expect(breaker.view().phase).toBe('half-open');
      await other.refresh();
      const test = await breaker.admit();
      expect(test).toBeDefined();
      // Another call of this process, and one of another process, wait while the test is out.
      expect(await heldFor(breaker)).toBe(SETTINGS.baseMs);
      expect(await heldFor(other)).toBe(SETTINGS.baseMs);
      await gateway503(breaker, test);
      waits.push(breaker.view().testInMs);
    }
    expect(waits).toEqual([2_000, 4_000, 8_000, 8_000, 8_000, 8_000]);
    expect(store.record.retests).toBe(6);

    clock.advance(8_000);
    const test = await breaker.admit();
    await breaker.answered(200, test);
    expect(breaker.view().phase).toBe('closed');
    expect(store.record).toMatchObject({ openedAt: undefined, failures: 0 });
    expect(await breaker.admit()).toBeUndefined();
    await other.refresh();
    expect(other.view().phase).toBe('closed');
    // Each process said it once: opened (p1 by its failures, p2 when it read it), closed.
    expect(said('open')).toHaveLength(2);
    expect(said('closed')).toHaveLength(2);
    expect(said('closed').every((l) => l.level === 30)).toBe(true);
  });

  it('a test that is not sent after all, or that ends without a verdict, lets another call test', async () => {
    const { breaker, clock } = setup();
    for (let i = 0; i < 5; i++) await breaker.unanswered(refused());
    clock.advance(1_000);
    const first = await breaker.admit();
    expect(first).toBeDefined();
    await first!.release(); // its batch refused the call at the last moment
    const second = await breaker.admit();
    expect(second).toBeDefined();
    await breaker.unanswered(new TimeoutError('ooto', 'no answer in time'), second);
    expect(breaker.view().phase).toBe('half-open');
    const third = await breaker.admit();
    expect(third).toBeDefined();
    await breaker.answered(429, third); // any answer: the vendor is there
    expect(breaker.view().phase).toBe('closed');
  });

  it('a worker that died mid-test does not hold the vendor for good: its lease runs out', async () => {
    const { breaker, clock, process } = setup();
    for (let i = 0; i < 5; i++) await gateway503(breaker);
    clock.advance(1_000);
    expect(await breaker.admit()).toBeDefined(); // and this process is never heard of again
    const other = process('p2');
    await other.refresh();
    expect(await heldFor(other)).toBe(SETTINGS.baseMs);
    clock.advance(30_000);
    const test = await other.admit();
    expect(test).toBeDefined();
    await other.answered(200, test);
    expect(other.view().phase).toBe('closed');
  });

  it('says once, when it has been open longer than the alert setting, and the view says so', async () => {
    const { breaker, clock, said } = setup();
    for (let i = 0; i < 5; i++) await breaker.answered(502);
    expect(breaker.view().alert).toBe(false);
    expect(breaker.describe()).toMatch(/^ooto: unreachable for 0 s \(since .*, last HTTP_502\): its calls are held, its lines stay queued with no attempt spent; next test at /);
    clock.advance(61_000);
    for (let i = 0; i < 5; i++) await breaker.refresh();
    expect(breaker.view()).toMatchObject({ alert: true, openForMs: 61_000 });
    expect(breaker.describe()).toContain('unreachable for 61 s, longer than RESCREEN_BREAKER_ALERT_MS (60 s)');
    expect(said('alert')).toHaveLength(1);
    expect(said('alert')[0]!.level).toBe(50);
    expect(said('open')).toHaveLength(1);
  });

  it('counts the test call’s failure once, and gateway answers of calls already on their way do not re-open it', async () => {
    const { breaker, clock, store } = setup();
    for (let i = 0; i < 5; i++) await gateway503(breaker);
    const openedAt = store.record.openedAt;
    // Calls sent before it opened come back failing: the outage's start stays the same.
    for (let i = 0; i < 10; i++) await gateway503(breaker);
    expect(store.record).toMatchObject({ openedAt, retests: 0 });
    clock.advance(1_000);
    const test = await breaker.admit();
    await breaker.answered(504, test);
    expect(store.record).toMatchObject({ openedAt, retests: 1, cause: 'HTTP_504' });
    // A 500 is the vendor answering (its own error), a 502 in the answer of a non-test call just counts.
    expect(await heldFor(breaker)).toBe(2_000);
    await breaker.answered(500);
    expect(breaker.view().phase).toBe('open');
  });

  it('InternalServerError 503 is a gateway failure to the retry policy as well', async () => {
    const { isGatewayFailure, dispositionOf, callCost } = await import('../../../src/errors/retry-policy.js');
    const api = { vendor: 'ooto', headers: {}, body: null, transactionId: null, message: 'x' };
    for (const status of [502, 503, 504]) {
      const error = new InternalServerError({ ...api, status });
      expect([isGatewayFailure(error), dispositionOf(error), callCost(error)]).toEqual([true, 'unavailable', 'free']);
    }
    expect(isGatewayFailure(new InternalServerError({ ...api, status: 500 }))).toBe(false);
    expect(callCost(new ConnectionError('ooto', 'reset', { answerStarted: false }))).toBe('free');
    expect(callCost(new ConnectionError('ooto', 'reset mid-answer', { answerStarted: true }))).toBe('possibly-billed');
  });
  it('a process that joins during an outage holds its first call (it reads the record first, once for calls made together)', async () => {
    const { clock, process, said, store } = setup();
    const p1 = process('p1');
    for (let i = 0; i < 5; i++) await gateway503(p1);
    expect(p1.view().phase).toBe('open');
    clock.advance(200);
    const late = process('p2');
    const reads = store.calls;
    const outcomes = await Promise.allSettled([late.admit(), late.admit(), late.admit(), late.admit()]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);
    expect(store.calls - reads).toBe(1);
    expect(outcomes.map((o) => (o.status === 'rejected' ? (o.reason as QuotaWaitError).waitMs : 0))).toEqual([800, 800, 800, 800]);
    // Each process says it once, the late one too.
    expect(said('open')).toHaveLength(2);
  });

  it('reads the record again before a call when the pool\'s refresh is late (a starved event loop)', async () => {
    const { process, store } = setup();
    const p1 = process('p1');
    const p2 = process('p2');
    expect(await p2.admit()).toBeUndefined();
    for (let i = 0; i < 5; i++) await gateway503(p1);
    // p2's copy is fresh: it still says closed (the pool's tick would read it within 2 s).
    expect(await p2.admit()).toBeUndefined();
    const real = performance.now();
    const later = vi.spyOn(performance, 'now').mockImplementation(() => real + 3_500);
    try {
      const reads = store.calls;
      await heldFor(p2);
      expect(store.calls).toBeGreaterThan(reads);
    } finally {
      later.mockRestore();
    }
  });
});
