/**
 * Prometheus metrics (prom-client) of one process, on a registry of its own. Counters move with
 * what this process does (vendor calls, webhook deliveries, records written); gauges are read from
 * Redis at scrape time by an injected {@link MetricsSampler} (queues, quotas, records, deliveries),
 * so `serve` and `work --metrics-port` both report the fleet's state. No label carries a batch id,
 * a subject or a transaction id: every label has a small, fixed set of values.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CallObserver, VendorCallEvent } from '../vendors/observer.js';

/** What the gauges show, read at scrape time. */
export interface MetricsSnapshot {
  readonly queues: readonly {
    readonly queue: string;
    readonly waiting: number;
    readonly active: number;
    readonly delayed: number;
    /** Age of the oldest waiting job, seconds; 0 when none waits. */
    readonly oldestWaitingSeconds: number;
  }[];
  readonly quotas: readonly {
    readonly vendor: string;
    /** Steady calls/s the quota (or the learned rate of `auto`) allows; undefined without a quota. */
    readonly perSecond: number | undefined;
    /** Each counted window: its limit and what is used of it now. */
    readonly windows: readonly { readonly window: string; readonly max: number; readonly used: number }[];
    /** Concurrency of the live workers for this vendor, in all. */
    readonly inFlight: number;
    /** Its circuit breaker: open (or testing), for how long, and open longer than RESCREEN_BREAKER_ALERT_MS. */
    readonly breaker?: { readonly open: boolean; readonly openSeconds: number; readonly alert: boolean };
  }[];
  /** Records of the listed (newest) batches, by status and by verdict. */
  readonly records: { readonly byStatus: Readonly<Record<string, number>>; readonly byVerdict: Readonly<Record<string, number>> };
  readonly deliveries: Readonly<Record<string, number>>;
  /** Per check, the last PSI kept (the newest finished batch with one) and whether that batch's drift alert fired. */
  readonly drift?: readonly { readonly check: string; readonly batch: string; readonly psi: number; readonly alert: boolean }[];
}

export type MetricsSampler = () => Promise<MetricsSnapshot>;

const EMPTY: MetricsSnapshot = { queues: [], quotas: [], records: { byStatus: {}, byVerdict: {} }, deliveries: {} };

export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

export class Metrics implements CallObserver {
  readonly registry = new Registry();
  readonly #requests: Counter<'vendor' | 'check' | 'status_class'>;
  readonly #duration: Histogram<'vendor' | 'check'>;
  readonly #rateLimited: Counter<'vendor'>;
  readonly #webhook: Counter<'outcome'>;
  readonly #written: Counter<'status'>;

  constructor(sampler?: MetricsSampler) {
    collectDefaultMetrics({ register: this.registry, prefix: 'rescreen_process_' });
    // prom-client also names three gauges `…_total`, a suffix Prometheus keeps for counters (promtool
    // check metrics refuses them); their counts stay in rescreen_process_nodejs_active_resources{type}.
    for (const name of ['active_handles', 'active_requests', 'active_resources']) this.registry.removeSingleMetric(`rescreen_process_nodejs_${name}_total`);
    const registers = [this.registry];
    this.#requests = new Counter({
      name: 'rescreen_vendor_requests_total',
      help: 'Vendor HTTP calls made by this process (quick retries included), by vendor, check and status class (2xx…5xx, timeout, connection)',
      labelNames: ['vendor', 'check', 'status_class'],
      registers,
    });
    this.#duration = new Histogram({
      name: 'rescreen_vendor_request_duration_seconds',
      help: 'Duration of vendor HTTP calls, from sending to the whole answer, seconds',
      labelNames: ['vendor', 'check'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
      registers,
    });
    this.#rateLimited = new Counter({ name: 'rescreen_vendor_rate_limited_total', help: 'Vendor calls answered 429', labelNames: ['vendor'], registers });
    this.#webhook = new Counter({
      name: 'rescreen_webhook_deliveries_total',
      help: 'Completion-webhook delivery attempts of this process by outcome (delivered, retrying, failed)',
      labelNames: ['outcome'],
      registers,
    });
    this.#written = new Counter({ name: 'rescreen_records_written_total', help: 'Records written by this process’s workers, by status', labelNames: ['status'], registers });
    if (sampler) this.#gauges(sampler, registers);
  }

  vendorCall(event: VendorCallEvent): void {
    this.#requests.inc({ vendor: event.vendor, check: event.check, status_class: event.statusClass });
    this.#duration.observe({ vendor: event.vendor, check: event.check }, event.seconds);
    if (event.rateLimited) this.#rateLimited.inc({ vendor: event.vendor });
  }

  webhookDelivery(outcome: 'delivered' | 'retrying' | 'failed'): void {
    this.#webhook.inc({ outcome });
  }

  recordWritten(status: string): void {
    this.#written.inc({ status });
  }

  /** The exposition text for `GET /metrics`. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  #gauges(sampler: MetricsSampler, registers: Registry[]): void {
    // One sample per scrape, shared by every gauge's collect(). A failed read (Redis gone) leaves
    // the gauges empty and says so, so the counters are still scraped.
    let pending: Promise<MetricsSnapshot> | undefined;
    let readOk = 1;
    const sample = (): Promise<MetricsSnapshot> => {
      pending ??= sampler()
        .then(
          (snapshot) => ((readOk = 1), snapshot),
          () => ((readOk = 0), EMPTY),
        )
        .finally(() => setImmediate(() => (pending = undefined)));
      return pending;
    };
    new Gauge({
      name: 'rescreen_state_read_ok',
      help: '1 when this scrape read the fleet state (queues, quotas, records) from Redis, 0 when it could not',
      registers,
      async collect() {
        await sample();
        this.set(readOk);
      },
    });
    const gauge = <L extends string>(name: string, help: string, labelNames: L[], fill: (g: Gauge<L>, s: MetricsSnapshot) => void) =>
      new Gauge<L>({
        name,
        help,
        labelNames,
        registers,
        async collect() {
          const s = await sample();
          this.reset();
          fill(this, s);
        },
      });
    gauge('rescreen_queue_jobs', 'Jobs per queue and state (waiting, active, delayed)', ['queue', 'state'], (g, s) => {
      for (const q of s.queues) for (const state of ['waiting', 'active', 'delayed'] as const) g.set({ queue: q.queue, state }, q[state]);
    });
    gauge('rescreen_queue_oldest_waiting_seconds', 'Age of the oldest waiting job per queue, seconds', ['queue'], (g, s) => {
      for (const q of s.queues) g.set({ queue: q.queue }, q.oldestWaitingSeconds);
    });
    gauge('rescreen_quota_per_second', 'Steady calls/s the vendor quota in force allows (learned rate for auto)', ['vendor'], (g, s) => {
      for (const q of s.quotas) if (q.perSecond !== undefined) g.set({ vendor: q.vendor }, q.perSecond);
    });
    gauge('rescreen_quota_window_limit', 'Calls each counted quota window allows', ['vendor', 'window'], (g, s) => {
      for (const q of s.quotas) for (const w of q.windows) g.set({ vendor: q.vendor, window: w.window }, w.max);
    });
    gauge('rescreen_quota_window_used', 'Calls used of each counted quota window now', ['vendor', 'window'], (g, s) => {
      for (const q of s.quotas) for (const w of q.windows) g.set({ vendor: q.vendor, window: w.window }, w.used);
    });
    gauge('rescreen_quota_in_flight', 'Concurrency of the live workers per vendor, fleet-wide', ['vendor'], (g, s) => {
      for (const q of s.quotas) g.set({ vendor: q.vendor }, q.inFlight);
    });
    gauge('rescreen_vendor_breaker_open', 'Whether the vendor circuit breaker is open (its calls held after gateway failures), 0 or 1', ['vendor'], (g, s) => {
      for (const q of s.quotas) if (q.breaker) g.set({ vendor: q.vendor }, q.breaker.open ? 1 : 0);
    });
    gauge('rescreen_vendor_breaker_open_seconds', 'How long the vendor circuit breaker has been open, seconds; 0 when closed', ['vendor'], (g, s) => {
      for (const q of s.quotas) if (q.breaker) g.set({ vendor: q.vendor }, q.breaker.openSeconds);
    });
    gauge('rescreen_vendor_breaker_alert', 'Whether the vendor circuit breaker has been open longer than RESCREEN_BREAKER_ALERT_MS, 0 or 1', ['vendor'], (g, s) => {
      for (const q of s.quotas) if (q.breaker) g.set({ vendor: q.vendor }, q.breaker.alert ? 1 : 0);
    });
    gauge('rescreen_records', 'Records of the newest batches (up to 100) by status', ['status'], (g, s) => {
      for (const [status, n] of Object.entries(s.records.byStatus)) g.set({ status }, n);
    });
    gauge('rescreen_records_by_verdict', 'Records of the newest batches (up to 100) by verdict', ['verdict'], (g, s) => {
      for (const [verdict, n] of Object.entries(s.records.byVerdict)) g.set({ verdict }, n);
    });
    gauge('rescreen_drift_psi', "Last population stability index of each check's scores against the check's previous finished batch (> 0.25: shift)", ['check'], (g, s) => {
      for (const d of s.drift ?? []) g.set({ check: d.check }, d.psi);
    });
    gauge('rescreen_drift_alert', "Whether the batch of each check's last PSI raised the drift alert (a PSI shift or the canary alert), 0 or 1", ['check'], (g, s) => {
      for (const d of s.drift ?? []) g.set({ check: d.check }, d.alert ? 1 : 0);
    });
    gauge('rescreen_webhook_deliveries', 'Completion-webhook deliveries remembered, by state (pending, delivered, failed)', ['state'], (g, s) => {
      for (const [state, n] of Object.entries(s.deliveries)) g.set({ state }, n);
    });
  }
}
