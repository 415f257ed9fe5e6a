import type { Dispatcher, MockAgent } from 'undici';
import { describe, expect, it } from 'vitest';
import type { Processor, ProcessorDeps } from '../../../src/checks/processor.js';
import { CheckRegistry } from '../../../src/checks/registry.js';
import { BUILT_INS } from '../../../src/runtime/built-ins.js';
import { createOotoClient } from '../../../src/vendors/ooto/client.js';
import type { OotoClient } from '../../../src/vendors/types.js';
import type { JobPayload } from '../../../src/checks/types.js';
import {
  AuthenticationError,
  ConnectionError,
  MediaRejectedError,
  RateLimitedError,
  VendorRejectedError,
} from '../../../src/errors/errors.js';
import { MemoryCallLedger } from '../../../src/money/call-budget.js';
import { recordLostJob, runJob, type JobRunnerDeps } from '../../../src/queueing/job-runner.js';
import { MemoryStore } from '../../helpers/memory-store.js';
import { createMockAgent } from '../vendors/helpers.js';

const payload: JobPayload = { batch: 'b1', line: 3, check: 'ooto-deepfake', subject: 'cust-1', ref: 'a.jpg', baseDir: '/m' };
const api = { vendor: 'ooto' as const, headers: {}, transactionId: 'tx-err' };

/** The built-in check modules, each with `processor` in place of its own. */
function withProcessor(processor: Processor<unknown>): CheckRegistry {
  return new CheckRegistry(BUILT_INS.checks.modules.map((m) => ({ ...m, processor })), BUILT_INS.vendors);
}

function deps(processor: Processor<unknown>, store = new MemoryStore()): JobRunnerDeps & { store: MemoryStore; calls: () => number } {
  let calls = 0;
  const counting: Processor<unknown> = async (...args) => {
    calls += 1;
    return processor(...args);
  };
  return {
    store,
    checks: withProcessor(counting),
    depsFor: () => ({}) as ProcessorDeps,
    maxRateLimited: 2,
    rateLimitBackoff: { baseMs: 1000, maxMs: 60_000 },
    redact: (t) => t.split('SECRET').join('[redacted]'),
    now: () => new Date('2026-11-22T00:00:00Z'),
    calls: () => calls,
  };
}

describe('runJob', () => {
  it('stores a completed record with the transaction id', async () => {
    const d = deps(async () => ({ verdict: 'genuine', score: 0.95, transactionId: 'tx-1', response: { ok: 1 } }));
    const step = await runJob({ payload, attempt: 1, maxAttempts: 5 }, d);
    expect(step.kind).toBe('recorded');
    expect(await d.store.get('b1', 3)).toEqual({
      batch: 'b1',
      line: 3,
      subject: 'cust-1',
      ref: 'a.jpg',
      check: 'ooto-deepfake',
      status: 'completed',
      transactionId: 'tx-1',
      verdict: 'genuine',
      score: 0.95,
      error: null,
      response: { ok: 1 },
      attempts: 1,
      finishedAt: '2026-11-22T00:00:00.000Z',
    });
  });

  it('skips a line that already has a record, without calling the processor', async () => {
    const d = deps(async () => ({ verdict: 'genuine', score: 1, transactionId: 'x', response: null }));
    await runJob({ payload, attempt: 1, maxAttempts: 5 }, d);
    const step = await runJob({ payload, attempt: 1, maxAttempts: 5 }, d);
    expect(step.kind).toBe('skipped');
    expect(d.calls()).toBe(1);
  });

  it('a retry run replaces a failed record but never a rejected one', async () => {
    const d = deps(async () => ({ verdict: 'genuine', score: 1, transactionId: 'x', response: null }));
    await d.store.put({ ...(await fakeRecord()), status: 'failed' });
    expect((await runJob({ payload: { ...payload, retry: true }, attempt: 1, maxAttempts: 5 }, d)).kind).toBe('recorded');
    await d.store.put({ ...(await fakeRecord()), status: 'rejected' });
    expect((await runJob({ payload: { ...payload, retry: true }, attempt: 1, maxAttempts: 5 }, d)).kind).toBe('skipped');
  });

  it('engine code 5 ends rejected with the vendor code and transaction id', async () => {
    const d = deps(async () => {
      throw new VendorRejectedError({ ...api, status: 400, code: 5, body: { result: { code: 5 } }, message: 'can not detect face' });
    });
    const step = await runJob({ payload, attempt: 1, maxAttempts: 5 }, d);
    expect(step.kind).toBe('recorded');
    const record = await d.store.get('b1', 3);
    expect(record).toMatchObject({ status: 'rejected', transactionId: 'tx-err', verdict: null, score: null, error: { code: 5 } });
    expect(record?.response).toEqual({ result: { code: 5 } });
  });

  it('local validation ends rejected with no transaction id', async () => {
    const d = deps(async () => {
      throw new MediaRejectedError('MEDIA_TOO_LARGE', 'video is 7340032 bytes; the limit is 6291456');
    });
    await runJob({ payload, attempt: 1, maxAttempts: 5 }, d);
    expect(await d.store.get('b1', 3)).toMatchObject({ status: 'rejected', transactionId: null, error: { code: 'MEDIA_TOO_LARGE' } });
  });

  it('transient errors retry until the last attempt, then fail with a record', async () => {
    const d = deps(async () => {
      throw new ConnectionError('ooto', 'socket hang up mid-answer', { answerStarted: true });
    });
    expect((await runJob({ payload, attempt: 4, maxAttempts: 5 }, d)).kind).toBe('retry');
    expect(d.store.puts).toBe(0);
    expect((await runJob({ payload, attempt: 5, maxAttempts: 5 }, d)).kind).toBe('recorded');
    const record = await d.store.get('b1', 3);
    expect(record).toMatchObject({ status: 'failed', attempts: 5, stoppedBy: 'attempts', error: { code: 'VENDOR_CONNECTION' } });
    expect(record!.error!.message).toBe('socket hang up mid-answer; retries exhausted: 5 attempts (RESCREEN_ATTEMPTS)');
  });

  it('tells onRecorded of every record it stores, with the error that ended the line', async () => {
    const seen: [string, unknown][] = [];
    const onRecorded = (record: { status: string }, cause: unknown) => {
      seen.push([record.status, cause]);
      return Promise.resolve();
    };
    const ok = deps(async () => ({ verdict: 'genuine', score: 0.9, transactionId: 't', response: null }));
    await runJob({ payload, attempt: 1, maxAttempts: 5 }, { ...ok, onRecorded });
    const error = new ConnectionError('ooto', 'reset mid-answer', { answerStarted: true });
    const bad = deps(async () => {
      throw error;
    });
    expect((await runJob({ payload, attempt: 1, maxAttempts: 2 }, { ...bad, onRecorded })).kind).toBe('retry');
    await runJob({ payload, attempt: 2, maxAttempts: 2 }, { ...bad, onRecorded });
    expect(seen).toEqual([
      ['completed', null],
      ['failed', error],
    ]);
  });

  it('a failure final by nature has no stoppedBy', async () => {
    const d = deps(async () => {
      throw new MediaRejectedError('MEDIA_TOO_LARGE', 'too big');
    });
    await runJob({ payload, attempt: 1, maxAttempts: 5 }, d);
    expect((await d.store.get('b1', 3))?.stoppedBy).toBeUndefined();
  });

  it('429 asks for a requeue with the vendor delay, until the cap', async () => {
    const d = deps(async () => {
      throw new RateLimitedError({ ...api, status: 429, body: null, message: 'slow down', retryAfterMs: 3000 });
    });
    expect(await runJob({ payload, attempt: 1, maxAttempts: 5 }, d)).toEqual({ kind: 'rate-limited', delayMs: 3000, timesLimited: 1 });
    expect((await runJob({ payload: { ...payload, rateLimited: 1 }, attempt: 1, maxAttempts: 5 }, d)).kind).toBe('rate-limited');
    const step = await runJob({ payload: { ...payload, rateLimited: 2 }, attempt: 1, maxAttempts: 5 }, d);
    expect(step.kind).toBe('recorded');
    // The cause is the 429; the limit that ended the line is stoppedBy.
    const record = await d.store.get('b1', 3);
    expect(record).toMatchObject({ status: 'failed', stoppedBy: 'rate-limited', error: { code: 'HTTP_429' } });
    expect(record!.error!.message).toMatch(/^slow down; the vendor refused this job with 429 3 times \(limit RESCREEN_MAX_RATE_LIMITED=2\)$/);
  });

  it('401 stops the vendor and writes nothing', async () => {
    const d = deps(async () => {
      throw new AuthenticationError({ ...api, status: 401, body: null, message: 'unauthorized' });
    });
    expect((await runJob({ payload, attempt: 1, maxAttempts: 5 }, d)).kind).toBe('stop-vendor');
    expect(d.store.puts).toBe(0);
  });

  it('unknown errors end failed, with secrets redacted from the message', async () => {
    const d = deps(async () => {
      throw new Error('weird SECRET thing');
    });
    await runJob({ payload, attempt: 1, maxAttempts: 5 }, d);
    expect(await d.store.get('b1', 3)).toMatchObject({ status: 'failed', error: { code: 'INTERNAL', message: 'weird [redacted] thing' } });
  });
});

describe('recordLostJob', () => {
  it('gives a job BullMQ gave up a failed record, unless the line already has one', async () => {
    const d = deps(async () => ({ verdict: 'genuine', score: 1, transactionId: 'x', response: null }));
    const lost = await recordLostJob({ payload, attempt: 2, maxAttempts: 5 }, 'job stalled more than allowable limit', d);
    expect(lost).toMatchObject({ status: 'failed', attempts: 2, transactionId: null, error: { code: 'WORKER_LOST' } });
    expect(await d.store.get('b1', 3)).toEqual(lost);
    expect(await recordLostJob({ payload, attempt: 3, maxAttempts: 5 }, 'again', d)).toBeNull();
    expect(d.store.puts).toBe(1);
  });
});

async function fakeRecord() {
  return {
    batch: 'b1',
    line: 3,
    subject: null,
    ref: 'a.jpg',
    check: 'ooto-deepfake' as const,
    status: 'failed' as const,
    transactionId: null,
    verdict: null,
    score: null,
    error: { code: 'X', message: 'x' },
    attempts: 1,
    finishedAt: new Date().toISOString(),
    response: null,
  };
}

describe('runJob with a call budget', () => {
  /**
   * Processor deps whose OOTO client is the real one, over an undici MockAgent that times out or
   * refuses every connection (the budget is charged in the transport, when a call leaves), counting
   * the requests that reach it.
   */
  function vendor(kind: 'timeout' | 'refused'): { depsFor: () => ProcessorDeps; vendorCalls: () => number } {
    const agent = createMockAgent();
    const every = { path: () => true, method: 'POST' };
    if (kind === 'timeout') agent.get('https://ooto.test').intercept(every).reply(200, '{}').delay(1_000).persist();
    else agent.get('https://ooto.test').intercept(every).replyWithError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED' })).persist();
    let vendorCalls = 0;
    const counting = { request: (...args: Parameters<MockAgent['request']>) => ((vendorCalls += 1), agent.request(...args)) } as unknown as Dispatcher;
    const client = createOotoClient({ baseUrl: 'https://ooto.test', appId: 'a', appKey: 'k', dispatcher: counting, timeoutMs: 50, callRetries: 0 });
    return { depsFor: () => ({ client }) as unknown as ProcessorDeps, vendorCalls: () => vendorCalls };
  }
  const callOoto: Processor<OotoClient> = (p, d) => d.client.deepfake({ bytes: Buffer.alloc(1), mime: 'image/jpeg', filename: 'a.jpg' }).then(() => {
    throw new Error('unreachable');
  });

  it('ends the line once it has cost its budget, counting possibly billed calls; a job that comes back after that calls nothing', async () => {
    const ledger = new MemoryCallLedger();
    const { depsFor, vendorCalls } = vendor('timeout');
    const d = { ...deps(callOoto as Processor<unknown>), depsFor, callBudget: { ledger, maxCallsPerLine: 2 } };
    expect((await runJob({ payload, attempt: 1, maxAttempts: 5 }, d)).kind).toBe('retry');
    const step = await runJob({ payload, attempt: 2, maxAttempts: 5 }, d);
    expect(step.kind).toBe('recorded');
    // The cause is the last call's (a timeout); the budget that ended the line is stoppedBy.
    const record = await d.store.get('b1', 3);
    expect(record).toMatchObject({ status: 'failed', possiblyBilled: 2, stoppedBy: 'call-budget', error: { code: 'VENDOR_TIMEOUT' } });
    expect(record!.error!.message).toMatch(/did not answer .*; 2 vendor calls made for this line without a usable answer .*RESCREEN_MAX_CALLS_PER_LINE=2$/);
    expect(vendorCalls()).toBe(2);

    // A stalled copy of the job (its record not seen yet) is refused before any call: no cause is known.
    const other = new MemoryStore();
    const again = await runJob({ payload: { ...payload, line: 3 }, attempt: 3, maxAttempts: 5 }, { ...d, store: other });
    expect(again.kind).toBe('recorded');
    expect(await other.get('b1', 3)).toMatchObject({ status: 'failed', stoppedBy: 'call-budget', error: { code: 'CALL_BUDGET_EXHAUSTED' } });
    expect(vendorCalls()).toBe(2);
  });

  it('a refused call costs nothing and spends no attempt; a line refused alone, its vendor’s breaker closed, ends after its attempts', async () => {
    const ledger = new MemoryCallLedger();
    const { depsFor, vendorCalls } = vendor('refused');
    const d = { ...deps(callOoto as Processor<unknown>), depsFor, callBudget: { ledger, maxCallsPerLine: 1 } };
    // No breaker here (as when the vendor answers other lines): the job backs off on its own, attempt 1 each time.
    for (let times = 0; times < 5; times++) {
      const step = await runJob({ payload: { ...payload, unavailable: times }, attempt: 1, maxAttempts: 5 }, d);
      expect(step).toMatchObject({ kind: 'unavailable', times: times + 1 });
      expect(step.kind === 'unavailable' && step.delayMs).toBeGreaterThan(0);
    }
    expect(await ledger.read({ batch: 'b1', line: 3, run: '' })).toEqual({ calls: 0, possiblyBilled: 0 });
    // Past its attempts of such failures: an ordinary retry, to the last attempt and a record.
    expect((await runJob({ payload: { ...payload, unavailable: 5 }, attempt: 4, maxAttempts: 5 }, d)).kind).toBe('retry');
    await runJob({ payload: { ...payload, unavailable: 5 }, attempt: 5, maxAttempts: 5 }, d);
    expect(await d.store.get('b1', 3)).toMatchObject({ status: 'failed', attempts: 5, error: { code: 'VENDOR_CONNECTION' } });
    expect((await d.store.get('b1', 3))?.possiblyBilled).toBeUndefined();
    expect(vendorCalls()).toBe(7);
  });

  it('while the vendor’s breaker is open, a gateway failure sends the job back around the next test, its count untouched', async () => {
    const { depsFor } = vendor('refused');
    const view = { phase: 'open', testInMs: 8_000, openForMs: 3_000, alert: false } as const;
    const breakerOf = () => ({ view: () => view, settings: { failures: 5, baseMs: 1_000, maxMs: 60_000, alertMs: 900_000 } });
    const d = { ...deps(callOoto as Processor<unknown>), depsFor, callBudget: { ledger: new MemoryCallLedger(), maxCallsPerLine: 1 }, breakerOf };
    const step = await runJob({ payload: { ...payload, unavailable: 40 }, attempt: 1, maxAttempts: 5 }, d);
    expect(step.kind).toBe('unavailable');
    if (step.kind !== 'unavailable') return;
    expect(step.times).toBeUndefined();
    expect(step.delayMs).toBeGreaterThanOrEqual(8_000);
    expect(step.delayMs).toBeLessThanOrEqual(9_000);
    expect(d.store.puts).toBe(0);
  });
});
