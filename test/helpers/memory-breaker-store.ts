/**
 * A vendor breaker's shared state in memory (the BreakerStore contract of src/quota/breaker-store.ts,
 * as RedisBreakerStore keeps it in Redis), on an injected clock: several Breakers given the same
 * store behave as worker processes sharing one Redis. Counts the round trips it was asked for.
 */
import type { BreakerRecord } from '../../src/quota/breaker-state.js';
import { CLOSED } from '../../src/quota/breaker-state.js';
import type { BreakerStore } from '../../src/quota/breaker-store.js';

export class MemoryBreakerStore implements BreakerStore {
  record: BreakerRecord = CLOSED;
  /** The test lease: held until this time, ms (0: free). */
  testUntil = 0;
  /** Calls of every method (round trips a Redis store would make). */
  calls = 0;

  constructor(private readonly clock: () => number) {}

  read(): Promise<BreakerRecord> {
    this.calls += 1;
    return Promise.resolve(this.record);
  }
  failed(cause: string): Promise<number> {
    this.calls += 1;
    this.record = { ...this.record, failures: this.record.failures + 1, cause };
    return Promise.resolve(this.record.failures);
  }
  open(now: number): Promise<boolean> {
    this.calls += 1;
    if (this.record.openedAt !== undefined) return Promise.resolve(false);
    this.record = { ...this.record, openedAt: now };
    return Promise.resolve(true);
  }
  retest(at: number, retests: number, cause: string): Promise<void> {
    this.calls += 1;
    this.record = { ...this.record, nextTestAt: at, retests, cause };
    return Promise.resolve();
  }
  answered(): Promise<void> {
    this.calls += 1;
    this.record = { ...this.record, failures: 0 };
    return Promise.resolve();
  }
  close(): Promise<void> {
    this.calls += 1;
    this.record = CLOSED;
    this.testUntil = 0;
    return Promise.resolve();
  }
  takeTest(leaseMs: number): Promise<boolean> {
    this.calls += 1;
    if (this.testUntil > this.clock()) return Promise.resolve(false);
    this.testUntil = this.clock() + leaseMs;
    return Promise.resolve(true);
  }
  releaseTest(): Promise<void> {
    this.calls += 1;
    this.testUntil = 0;
    return Promise.resolve();
  }
  now(): Promise<number> {
    this.calls += 1;
    return Promise.resolve(this.clock());
  }
}
