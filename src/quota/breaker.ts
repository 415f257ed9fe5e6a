/**
 * A vendor's circuit breaker in one worker process: vendor outages are the vendor's, not the line's.
 * Gateway failures (502/503/504, no connection or a reset before any answer byte: see
 * isGatewayFailure) are counted for the whole fleet; after RESCREEN_BREAKER_FAILURES in a row every
 * call of that vendor is held — by every worker on the same Redis and prefix — before any quota
 * permit is taken or any line charged. Once the wait is over one call (the test) is let through: an
 * answer closes the breaker, another gateway failure re-opens it with twice the wait (up to
 * RESCREEN_BREAKER_MAX_MS). The jobs held go back to the queue without spending an attempt or any of
 * their call budget, as a 429 pause does (./admission.ts owns a breaker and asks it first).
 *
 * Closed, the breaker costs nothing per call: this process's copy of the fleet's record answers,
 * refreshed every 2 s by the worker pool's tick and at once by each of its own gateway failures. The
 * copy is read before this process's first call, and again before a call whenever the tick is late
 * (a starved event loop): a process that joins the fleet during an outage holds its calls from the
 * first one instead of sending a burst of them until its first tick.
 * Each process says once when a vendor's breaker opened, once when it closed, and once when it has
 * been open longer than RESCREEN_BREAKER_ALERT_MS.
 */
import type { Logger } from 'pino';
import { QuotaWaitError, RescreenError } from '../errors/errors.js';
import type { Vendor } from '../vendors/types.js';
import { isGatewayFailure, isGatewayStatus } from '../errors/retry-policy.js';
import type { CallPermit } from '../vendors/types.js';
import { CLOSED, describeBreaker, duration, viewAt, waitAfter, type BreakerRecord, type BreakerSettings, type BreakerView } from './breaker-state.js';
import type { BreakerStore } from './breaker-store.js';

export interface BreakerOptions {
  readonly vendor: Vendor;
  readonly store: BreakerStore;
  readonly settings: BreakerSettings;
  /**
   * How long the one test call may take before another process may test instead, ms: the request
   * time limit and a margin (a worker that died mid-test must not keep the vendor closed for good).
   */
  readonly testLeaseMs: number;
  readonly log: Logger;
  /** Injected clock, ms since the epoch (tests); default the fleet's (Redis TIME), read at each refresh. */
  readonly now?: (() => number) | undefined;
}

/** The permit of the one call that tests a vendor whose breaker is half-open. */
export class TestCall implements CallPermit {
  #inner: CallPermit | undefined;
  constructor(private readonly giveBack: () => Promise<void>) {}
  /** The same test, also holding the quota's permit (given back with it). */
  with(permit: CallPermit | undefined): this {
    this.#inner = permit;
    return this;
  }
  /** The call is not sent after all: the quota's permit and the test go back. */
  async release(): Promise<void> {
    await this.#inner?.release();
    await this.giveBack();
  }
}

/** The copy is read again before a call once it is this old, ms: the pool's 2 s tick and a margin. */
const STALE_AFTER_MS = 3_000;

export class Breaker {
  readonly vendor: Vendor;
  readonly #o: BreakerOptions;
  #record: BreakerRecord = CLOSED;
  /** Fleet clock minus this host's, ms (from the last refresh). */
  #offset = 0;
  /** When the copy was read (performance.now()); undefined before the first read. */
  #readAt: number | undefined;
  /** The read under way, shared by the calls that wait for it. */
  #reading: Promise<void> | undefined;
  /** The test calls this process has let through and not yet heard back from. */
  readonly #tests = new WeakSet<CallPermit>();
  /** What this process last said: that the breaker opened (at that time, until it says it closed), and the alert. */
  #saidOpen: number | undefined;
  #saidAlert = false;

  constructor(options: BreakerOptions) {
    this.#o = options;
    this.vendor = options.vendor;
  }

  get settings(): BreakerSettings {
    return this.#o.settings;
  }

  /** What `status` says of it (./breaker-state.ts describeBreaker); undefined when closed. */
  describe(): string | undefined {
    return describeBreaker(this.vendor, this.#record, this.#now(), this.#o.settings);
  }

  /** This process's view now (its copy of the record, on the fleet's clock). */
  view(): BreakerView {
    return viewAt(this.#record, this.#now(), this.#o.settings);
  }

  /**
   * Before a call: nothing when closed (no Redis round trip while the copy is fresh); the test's permit when this call may
   * test the vendor. @throws QuotaWaitError while open, or while another call tests it.
   */
  async admit(): Promise<TestCall | undefined> {
    if (this.#readAt === undefined || performance.now() - this.#readAt > STALE_AFTER_MS) {
      this.#reading ??= this.#reload().finally(() => (this.#reading = undefined));
      await this.#reading;
    }
    let view = this.view();
    if (view.phase === 'closed') return undefined;
    if (view.phase === 'half-open' && (await this.#o.store.takeTest(this.#o.testLeaseMs))) {
      // The copy may be old: another process may have closed it, or re-opened it after its own test.
      await this.#reload();
      view = this.view();
      if (view.phase === 'half-open') {
        const test: TestCall = new TestCall(() => this.#forget(test));
        this.#tests.add(test);
        return test;
      }
      await this.#o.store.releaseTest();
      if (view.phase === 'closed') return undefined;
    }
    const waitMs = view.phase === 'open' ? view.testInMs : this.#o.settings.baseMs;
    throw new QuotaWaitError(this.vendor, Math.max(1, waitMs), this.#held(view));
  }

  /** Every HTTP answer (its status) of a call; `permit` as admit() gave it. */
  async answered(status: number, permit?: CallPermit): Promise<void> {
    if (isGatewayStatus(status)) return this.#failed(`HTTP_${status}`, permit);
    if (permit !== undefined && this.#tests.has(permit)) {
      this.#tests.delete(permit);
      await this.#o.store.close();
      this.#record = CLOSED;
      this.#say();
    } else if (this.#record.openedAt === undefined && this.#record.failures > 0) {
      // Only when this process knows of failures in a row: no write per answered call.
      this.#record = { ...this.#record, failures: 0 };
      await this.#o.store.answered();
    }
  }

  /** A call that got no HTTP answer (refused, reset, timeout, our own abort). */
  async unanswered(error: unknown, permit?: CallPermit): Promise<void> {
    if (isGatewayFailure(error)) return this.#failed(error instanceof RescreenError ? String(error.code) : 'VENDOR_CONNECTION', permit);
    // A test that says nothing (a timeout mid-answer, a shutdown): another call tests instead.
    if (permit !== undefined && this.#tests.has(permit)) await this.#forget(permit);
  }

  /** Reads the fleet's record (every 2 s, from the worker pool's tick) and says what changed. */
  async refresh(): Promise<BreakerView> {
    await this.#reload();
    return this.view();
  }

  async #failed(cause: string, permit: CallPermit | undefined): Promise<void> {
    const store = this.#o.store;
    if (permit !== undefined && this.#tests.has(permit)) {
      this.#tests.delete(permit);
      // The test failed: the next one waits twice as long. Only the lease holder writes this.
      const retests = this.#record.retests + 1;
      const at = this.#now() + waitAfter(retests, this.#o.settings);
      await store.retest(at, retests, cause);
      await store.releaseTest();
      this.#record = { ...this.#record, openedAt: this.#record.openedAt ?? this.#now(), retests, nextTestAt: at, cause };
      this.#o.log.debug({ vendor: this.vendor, breaker: 'retest', cause, nextTestInMs: at - this.#now() }, `${this.vendor}: the test call failed too (${cause})`);
      return;
    }
    const failures = await store.failed(cause);
    if (failures >= this.#o.settings.failures && this.#record.openedAt === undefined) await store.open(this.#now());
    await this.#reload();
  }

  async #forget(test: CallPermit): Promise<void> {
    this.#tests.delete(test);
    await this.#o.store.releaseTest();
  }

  async #reload(): Promise<void> {
    const readAt = performance.now();
    const [record, now] = await Promise.all([this.#o.store.read(), this.#o.now === undefined ? this.#o.store.now() : undefined]);
    if (now !== undefined) this.#offset = now - Date.now();
    this.#record = record;
    this.#readAt = readAt;
    this.#say();
  }

  #now(): number {
    return this.#o.now?.() ?? Date.now() + this.#offset;
  }

  /** One line when this process learns the breaker opened, one when it closed, one at the alert. */
  #say(): void {
    const view = this.view();
    const { log, settings } = this.#o;
    const fields = { vendor: this.vendor, failures: this.#record.failures, cause: this.#record.cause };
    if (view.phase === 'closed') {
      if (this.#saidOpen !== undefined) {
        const openForMs = Math.max(0, this.#now() - this.#saidOpen);
        log.info({ vendor: this.vendor, breaker: 'closed', openForMs }, `${this.vendor} answers again after ${duration(openForMs)}: its breaker closed; calls resume`);
      }
      this.#saidOpen = undefined;
      this.#saidAlert = false;
      return;
    }
    if (this.#saidOpen === undefined) {
      this.#saidOpen = this.#record.openedAt ?? this.#now();
      log.warn(
        { ...fields, breaker: 'open', testInMs: view.testInMs },
        `${this.vendor}: ${settings.failures} gateway failures in a row (last ${this.#record.cause ?? '?'}): breaker open, every ${this.vendor} call held; ` +
          `one call tests it in ${duration(view.testInMs)}, then at growing intervals up to ${duration(settings.maxMs)}; lines stay queued, no attempt spent`,
      );
    }
    if (view.alert && !this.#saidAlert) {
      this.#saidAlert = true;
      log.error(
        { ...fields, breaker: 'alert', openForMs: view.openForMs },
        `${this.vendor}: unreachable for ${duration(view.openForMs)}, longer than RESCREEN_BREAKER_ALERT_MS (${duration(settings.alertMs)}); its lines stay queued — check the vendor's status and its base URL`,
      );
    }
  }

  #held(view: BreakerView): string {
    const test = view.phase === 'open' ? `one call tests it in ${duration(view.testInMs)}` : 'a call is testing it';
    return `${this.vendor}: breaker open after gateway failures (last ${this.#record.cause ?? '?'}); ${test}`;
  }
}
