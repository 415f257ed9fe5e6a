/**
 * Wiring: builds the long-lived parts (Redis client, store, queues, vendor clients, media loader,
 * worker pool) from a Config. The CLI, the demo, the tests and the benchmark all wire through here,
 * so what they exercise is what production runs.
 */
import type { Queue, Worker } from 'bullmq';
import type { Redis } from '../redis/client.js';
import { assertClusterSafePrefix, connectRedis, isClusterUrl } from '../redis/connect.js';
import type { Logger } from 'pino';
import type { CheckRegistry } from '../checks/registry.js';
import type { Vendor } from '../vendors/types.js';
import type { ProcessorDeps } from '../checks/processor.js';
import type { JobPayload, ResultRecord } from '../checks/types.js';
import { configRedactor, type Config } from '../config/config.js';
import { createMediaLoader } from '../media/loader.js';
import { createNotifier, startNotificationWorker, type CaseEventJob, type NotificationJob } from '../notify/notifications.js';
import { createReviewQueue, requestScan, RESCAN_DELAY_MS, setReviewRules, startReviewWorker, type ReviewScanJob } from '../review/queue.js';
import type { CaseStore, Decision, ReviewCase } from '../store/cases.js';
import type { RingStore } from '../store/rings.js';
import { createS3Access, type S3Access } from '../media/s3.js';
import { pendingJobCount, type PendingWork } from '../queueing/idle.js';
import { openVendorQueues } from '../queueing/names.js';
import { SharedAnswers } from '../money/dedupe.js';
import { WorkerPool } from '../queueing/worker-pool.js';
import { FailureRateGuard } from '../money/failure-guard.js';
import type { Metrics } from '../metrics/metrics.js';
import { Admission } from '../quota/admission.js';
import { Breaker } from '../quota/breaker.js';
import { RedisBreakerStore } from '../quota/breaker-store.js';
import { QuotaWatcher } from '../quota/limits.js';
import type { Quota } from '../quota/spec.js';
import { assertRedisReachable } from '../redis/locate.js';
import { ScheduleWorker } from '../schedules/worker.js';
import type { CallLedger } from '../money/call-budget.js';
import type { PutResult, ResultStore } from '../store/types.js';
import { openStore, recordTerms } from './store.js';
import { confirmSimulatorCredentials } from './simulator-credentials.js';
import { RunSettingsRecorder } from '../records/run-settings.js';
import { originOf, publicBaseUrl, type RunSettings } from '../store/run-settings.js';
import { isLoopbackHost } from '../config/hosts.js';
import { packageVersion } from '../config/version.js';
import { answersAsSimulator } from '../simulator/identity.js';
import { startTracing, type Tracing } from '../telemetry/tracing.js';
import type { VendorClient, VendorDefinition } from '../vendors/definition.js';
import { BUILT_INS, type Registries } from './built-ins.js';

export interface Runtime {
  readonly config: Config;
  readonly log: Logger;
  readonly redis: Redis;
  readonly store: ResultStore;
  /** Which backend `store` is: `redis` (default) or `postgres` (RESCREEN_STORE_URL). */
  readonly storeKind: 'redis' | 'postgres';
  /** Which store, without credentials (`redis`, `postgres://host:port/db?schema=…`): recorded with each batch enqueued. */
  readonly storeIdentity: string;
  /** The per-line vendor call ledger, next to the records. */
  readonly callLedger: CallLedger;
  /** The vendor definitions this runtime works with (the registry's, or a test's). */
  readonly vendors: readonly VendorDefinition[];
  /** The checks this runtime knows (jobs/, or a test's). */
  readonly checks: CheckRegistry;
  /** One BullMQ queue per vendor, by vendor name. */
  readonly queues: Readonly<Record<Vendor, Queue<JobPayload>>>;
  /** The completion-webhook queue, when RESCREEN_WEBHOOK_URL is set. */
  readonly notifications: Queue<NotificationJob> | undefined;
  /** The review cases (src/store/cases.ts), in the same backend as `store`. */
  readonly cases: CaseStore;
  /** The fraud rings (src/store/rings.ts), in the same backend as `store`. */
  readonly rings: RingStore;
  /** The `review` queue: scans of finished batches that open cases (src/review/queue.ts). */
  readonly review: Queue<ReviewScanJob>;
  /** Queues `case.opened` / `case.decided` webhooks (one per case or decision); nothing without RESCREEN_WEBHOOK_URL. */
  notifyCases(event: CaseEventJob['event'], items: readonly { case: ReviewCase; decision?: Decision }[]): Promise<void>;
  /** Object storage (s3:// media and prefix manifests), from `config.s3`: one per process and settings. */
  readonly s3: S3Access;
  /** OpenTelemetry tracing, when the OTEL_* variables turn it on (src/telemetry/tracing.ts); undefined otherwise. */
  readonly tracing: Tracing | undefined;
  close(): Promise<void>;
}

const s3Accesses = new WeakMap<Config['s3'], S3Access>();

/** The process's {@link S3Access} for these settings (one SDK client and connection pool, created on first use). */
export function s3AccessFor(config: Config): S3Access {
  let access = s3Accesses.get(config.s3);
  if (access === undefined) {
    access = createS3Access(config.s3, { hostPolicy: config.mediaHosts });
    s3Accesses.set(config.s3, access);
  }
  return access;
}

/**
 * Connects to Redis (failing fast with a one-line message when it does not answer) and opens the
 * store and queues. `registries`: the vendors and checks (default the built-in ones). The runtime's
 * `config` is `given` with the simulator's test credentials for a vendor whose base URL answered as
 * the simulator (RESCREEN_SIMULATOR_CREDENTIALS).
 */
export async function openRuntime(given: Config, log: Logger, registries: Registries = BUILT_INS): Promise<Runtime> {
  // On a Cluster, a prefix without a hash tag would fail deep inside BullMQ: refuse it with the fix.
  if (isClusterUrl(given.redisUrl)) assertClusterSafePrefix(given.prefix);
  // Tracing first (loaded only when configured), so the identity probe and every later call are seen.
  const tracing = given.tracing ? await startTracing(given.tracing, packageVersion()) : undefined;
  const [config] = await Promise.all([confirmSimulatorCredentials(given, log), assertRedisReachable(given.redisUrl)]);
  const redis = connectRedis(config.redisUrl, { maxRetriesPerRequest: null });
  redis.on('error', (error) => log.debug({ err: error.message }, 'redis connection error'));
  const queues = openVendorQueues(
    registries.vendors.map((v) => v.name),
    redis,
    config.prefix,
    config.worker,
    tracing?.bullmq,
  );
  // A finished batch is announced by the write that finished it, wherever that runs (worker or producer).
  const notifier = config.webhook ? createNotifier(redis, config.prefix, config.webhook, config.worker.backoffMs, tracing?.bullmq) : undefined;
  // ... and its review cases are looked for (src/review/queue.ts), webhook or not.
  const review = createReviewQueue(redis, config.prefix);
  const onBatchFinished = async (batch: string) => {
    await notifier?.notify(batch);
    await requestScan(review, batch);
  };
  let opened;
  try {
    opened = await openStore(config, redis, { onBatchFinished });
  } catch (error) {
    await Promise.all([...Object.values(queues), review, ...(notifier ? [notifier.queue] : [])].map((q) => q.close().catch(() => undefined)));
    await redis.quit().catch(() => redis.disconnect());
    throw error;
  }
  const { store } = opened;
  const allQueues: Queue[] = [...Object.values(queues), review, ...(notifier ? [notifier.queue] : [])];
  // Without a listener, a connection error of a queue is an uncaught 'error' event: a stack trace.
  for (const q of allQueues) q.on('error', (error) => log.debug({ err: error.message }, 'redis connection error (queue)'));
  return {
    config,
    log,
    redis,
    store,
    storeKind: opened.kind,
    storeIdentity: opened.identity,
    callLedger: opened.ledger,
    vendors: registries.vendors,
    checks: registries.checks,
    queues,
    notifications: notifier?.queue,
    cases: opened.cases,
    rings: opened.rings,
    review,
    notifyCases: async (event, items) => {
      await notifier?.notifyCases(event, items);
    },
    s3: s3AccessFor(config),
    tracing,
    close: async () => {
      s3AccessFor(config).close();
      // In order: a command that ends at once (e.g. a bad --output) must not close the connection
      // under a queue still connecting, or ioredis reports "Connection is closed" with a trace.
      await Promise.all(allQueues.map((q) => q.waitUntilReady().catch(() => undefined)));
      await Promise.all(allQueues.map((q) => q.close()));
      await redis.quit().catch(() => redis.disconnect());
      await opened.close();
      // The spans of a one-shot command leave before it exits.
      await tracing?.flush().catch((error: unknown) => log.warn({ err: (error as Error).message }, 'could not send the last trace spans'));
    },
  };
}

/** Removes every configured secret (and GLAIR's Basic form of them) from free text, as whole tokens (config/redact.ts). */
export function redactor(config: Config): (text: string) => string {
  return configRedactor(config);
}

/**
 * The settings this process answers a vendor's calls with. `simulator`: the base URL is a loopback
 * address that answers as the rescreen simulator (asked once: one GET without credentials).
 */
async function describeRunSettings(config: Config, vendor: Vendor): Promise<RunSettings> {
  const baseUrl = config.vendors[vendor]?.baseUrl ?? '';
  const origin = originOf(baseUrl);
  const simulator = origin !== null && isLoopbackHost(new URL(origin).hostname) && (await answersAsSimulator(baseUrl));
  return {
    rescreenVersion: packageVersion(),
    vendor,
    baseUrl: publicBaseUrl(baseUrl),
    simulator,
    identifyMatchThreshold: config.identifyMatchThreshold,
    keepResponse: config.keepResponse,
    maxResponseBytes: config.maxResponseBytes,
  };
}

/** Delay after a 429 that came without Retry-After (GLAIR sends none): doubled per consecutive pause. */
const RATE_LIMIT_BACKOFF = { baseMs: 1_000, maxMs: 60_000 } as const;

/** Each vendor's client and media loader, as its checks' processors receive them. */
export interface VendorDeps {
  /** The processor dependencies of `vendor`'s checks. @throws Error for a vendor not registered. */
  readonly depsFor: (vendor: Vendor) => ProcessorDeps;
  close(): Promise<void>;
}

/** Vendor clients (one per registered vendor) and media loaders; `gates` admit each call (the quota). */
export function createProcessorDeps(
  config: Config,
  gates: Partial<Record<Vendor, Admission>> = {},
  vendors: readonly VendorDefinition[] = BUILT_INS.vendors,
  metrics?: Metrics,
): VendorDeps {
  // `observer`: every vendor call's outcome and duration, for /metrics.
  const options = {
    timeoutMs: config.worker.requestTimeoutMs,
    callRetries: config.worker.callRetries,
    maxAnswerBytes: config.worker.maxAnswerBytes,
    ...(metrics ? { observer: metrics } : {}),
  };
  const clients: VendorClient[] = [];
  const byVendor = new Map<Vendor, ProcessorDeps>();
  for (const vendor of vendors) {
    const settings = config.vendors[vendor.name];
    if (settings === undefined) throw new Error(`the configuration has no settings for vendor ${vendor.name}`);
    const client = vendor.createClient(settings, { ...options, gate: gates[vendor.name] });
    clients.push(client);
    const media = createMediaLoader({ photoMaxBytes: config.photoMaxBytes, hostPolicy: config.mediaHosts, s3: s3AccessFor(config), ...vendor.media });
    byVendor.set(vendor.name, { media, client, identifyMatchThreshold: config.identifyMatchThreshold });
  }
  return {
    depsFor: (vendor) => {
      const deps = byVendor.get(vendor);
      if (deps === undefined) throw new Error(`no client for vendor ${vendor}`);
      return deps;
    },
    close: async () => {
      await Promise.all(clients.map((c) => c.close()));
      s3AccessFor(config).close();
    },
  };
}

export interface WorkerHandle {
  readonly pool: WorkerPool;
  /** The `schedules` queue's worker (firings of scheduled re-screens; concurrency 1). */
  readonly schedules: ScheduleWorker;
  /** Completion-webhook deliveries still to make (when RESCREEN_WEBHOOK_URL is set). */
  readonly notifications: PendingWork | undefined;
  /** Review scans still to run (cases of finished batches). */
  readonly review: PendingWork;
  /** Records the vendor workers of this handle have written so far (for the Ctrl-C summary line). */
  recordsWritten(): number;
  /** Closes everything once, in order (workers, then their connections, then the vendor clients); later calls share it. */
  close(force?: boolean): Promise<void>;
}

/**
 * Starts the workers (one per vendor queue) with the vendor clients built from the config, and the
 * worker of the `schedules` queue (whatever `vendors` says: firings only enqueue).
 */
export function startWorkers(
  runtime: Runtime,
  options: {
    concurrency?: number;
    vendors?: readonly Vendor[];
    /** The quota's clock, ms since the epoch (tests); default Redis TIME. */
    clock?: () => number;
    /** Counts vendor calls, records written and webhook deliveries (`work --metrics-port`). */
    metrics?: Metrics;
  } = {},
): WorkerHandle {
  const { config, log, store } = runtime;
  const quotas = new QuotaWatcher(runtime.redis, config.prefix, envQuotas(runtime), log);
  quotas.start().catch((err: unknown) => log.debug({ err }, 'could not read quota overrides'));
  const admission = (vendor: Vendor): Admission =>
    new Admission({
      redis: runtime.redis,
      prefix: config.prefix,
      vendor,
      quota: () => quotas.current(vendor),
      log,
      now: options.clock,
      guardMs: config.worker.rateGuardMs,
      backoff: RATE_LIMIT_BACKOFF,
      // Gateway failures hold the vendor for the fleet; a test call may take a whole request time.
      breaker: new Breaker({ vendor, store: new RedisBreakerStore(runtime.redis, config.prefix, vendor), settings: config.worker.breaker, testLeaseMs: config.worker.requestTimeoutMs + 10_000, log, now: options.clock }),
    });
  const admissions = Object.fromEntries(runtime.vendors.map((v) => [v.name, admission(v.name)]));
  const processorDeps = createProcessorDeps(config, admissions, runtime.vendors, options.metrics);
  // Every record the workers write: counted (for the Ctrl-C summary line), measured, and a replaced
  // record of a finished batch (a retry) may open a case: the batch is scanned again.
  let written = 0;
  const onWritten = async (record: ResultRecord, result: PutResult): Promise<void> => {
    written += 1;
    options.metrics?.recordWritten(record.status);
    if (!result.created && !result.finishedBatch) await rescanIfFinished(record.batch);
  };
  const rescanIfFinished = async (batch: string) => {
    try {
      const summary = await store.summary(batch);
      if (summary?.finishedAt != null) await requestScan(runtime.review, batch, RESCAN_DELAY_MS);
    } catch (error) {
      log.warn({ batch, err: (error as Error).message }, 'could not ask for a review scan of the batch');
    }
  };
  const guard = new FailureRateGuard(runtime.redis, config.prefix, log);
  // Its identity probe is the worker's housekeeping, not part of the job that happened to need it first.
  const { tracing } = runtime;
  const runSettings = new RunSettingsRecorder(store, (vendor) => (tracing ? tracing.detached(() => describeRunSettings(config, vendor)) : describeRunSettings(config, vendor)));
  const pool = new WorkerPool({
    redisUrl: config.redisUrl,
    prefix: config.prefix,
    vendors: options.vendors ?? runtime.vendors.map((v) => v.name),
    words: Object.fromEntries(runtime.vendors.map((v) => [v.name, v])),
    tuning: config.worker,
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    admissions,
    quotaOf: (vendor) => quotas.current(vendor),
    runner: {
      store,
      onWritten,
      checks: runtime.checks,
      depsFor: processorDeps.depsFor,
      maxRateLimited: config.worker.maxRateLimited,
      rateLimitBackoff: RATE_LIMIT_BACKOFF,
      redact: redactor(config),
      maxResponseBytes: config.maxResponseBytes,
      keepResponse: config.keepResponse,
      // What answered each call, and what the batch ran with: the evidence exports take (not the exporter's config).
      endpointOf: (vendor) => originOf(config.vendors[vendor]?.baseUrl ?? ''),
      recordRunSettings: (batch, vendor) => runSettings.record(batch, vendor),
      callBudget: {
        ledger: runtime.callLedger,
        maxCallsPerLine: config.worker.maxCallsPerLine,
        // A claim of a worker that died is taken over once its job lock would have lapsed twice.
        shared: new SharedAnswers(runtime.redis, config.prefix, config.worker.lockDurationMs * 2),
      },
      heldRecheckMs: config.worker.heldRecheckMs,
      breakerOf: (vendor) => admissions[vendor]?.breaker,
      onRecorded: (record, cause) => guard.observe(record, cause),
    },
    store: runtime.storeIdentity,
    log,
    ...(runtime.tracing ? { tracing: runtime.tracing } : {}),
  }).start();
  const schedules = new ScheduleWorker({
    redisUrl: config.redisUrl,
    prefix: config.prefix,
    redis: runtime.redis,
    queues: runtime.queues,
    checks: runtime.checks,
    store,
    recordTerms: (batch) => recordTerms(config, runtime.redis, runtime.storeIdentity, batch),
    setReview: (batch, rules) => setReviewRules(runtime.redis, config.prefix, batch, rules),
    log,
  }).start();
  const reviewConnection = connectRedis(config.redisUrl, { maxRetriesPerRequest: null });
  reviewConnection.on('error', (error) => log.debug({ err: error.message }, 'redis connection error'));
  const reviewWorker = startReviewWorker({
    connection: reviewConnection,
    prefix: config.prefix,
    redis: runtime.redis,
    store,
    cases: runtime.cases,
    checks: runtime.checks,
    rings: { store: runtime.rings, matchThreshold: config.identifyMatchThreshold },
    log,
    onOpened: (opened) => runtime.notifyCases('case.opened', opened.map((c) => ({ case: c }))),
  });
  const reviewQueue = runtime.review;
  let notificationConnection: Redis | undefined;
  let notificationWorker: Worker<NotificationJob> | undefined;
  if (config.webhook) {
    notificationConnection = connectRedis(config.redisUrl, { maxRetriesPerRequest: null });
    notificationConnection.on('error', (error) => log.debug({ err: error.message }, 'redis connection error'));
    notificationWorker = startNotificationWorker({
      connection: notificationConnection,
      prefix: config.prefix,
      webhook: config.webhook,
      store,
      checks: runtime.checks,
      log,
      ...(options.metrics ? { onOutcome: (outcome) => options.metrics?.webhookDelivery(outcome) } : {}),
      ...(runtime.tracing ? { telemetry: runtime.tracing.bullmq } : {}),
    });
  }
  const notificationsQueue = runtime.notifications;
  let closing: Promise<void> | undefined;
  return {
    pool,
    schedules,
    notifications: notificationsQueue
      ? {
          // Deliveries due or under way; ones waiting out a backoff (delayed) count too, so
          // `work --until-idle` delivers before it exits (up to the attempts' backoff).
          pendingCount: () => pendingJobCount(notificationsQueue),
        }
      : undefined,
    review: { pendingCount: () => pendingJobCount(reviewQueue) },
    recordsWritten: () => written,
    close: (force = false) =>
      // Once: a second close (the signal handler and the command's own finally) closing the vendor
      // clients again is what printed "The client is destroyed".
      (closing ??= (async () => {
        quotas.stop();
        await notificationWorker?.waitUntilReady().catch(() => undefined); // as the pool does: see its close()
        await reviewWorker.waitUntilReady().catch(() => undefined);
        await Promise.all([pool.close(force), schedules.close(force), notificationWorker?.close(force), reviewWorker.close(force)]);
        await notificationConnection?.quit().catch(() => notificationConnection?.disconnect());
        await reviewConnection.quit().catch(() => reviewConnection.disconnect());
        await processorDeps.close();
      })()),
  };
}

/** Each vendor's quota from the environment (OOTO_RATE_LIMIT, …), by vendor name. */
export function envQuotas(runtime: Pick<Runtime, 'config' | 'vendors'>): Record<Vendor, Quota | undefined> {
  return Object.fromEntries(runtime.vendors.map((v) => [v.name, runtime.config.vendors[v.name]?.quota]));
}
