import { parseServerEnv, type ServerConfig } from './server.js';
import { ErrorCodes, RescreenError } from '../errors/errors.js';
import { DEFAULT_CONCURRENCY, DEFAULT_LOCK_MS, DEFAULT_REDIS_URL } from './defaults.js';
import { EnvSchema, vendorEnvSchema } from './env-schema.js';
import { MIN_CREDENTIAL_LENGTH, secretRedactor } from './redact.js';
import type { PgTarget } from './store-url.js';
import type { MediaHostPolicy } from './hosts.js';
import type { Quota } from './quota-spec.js';
import { plainRate } from './rate-limit.js';
import { breakerSettings, type BreakerSettings } from './breaker.js';
import { S3EnvSchema, s3Settings, type S3Settings } from './s3.js';
import { hasNoCredential, type VendorConfigSpec, type VendorSettings } from './vendor-settings.js';
import { parseTracing, type TracingConfig } from './tracing.js';

export type { VendorConfigSpec, VendorSettings };

/**
 * The whole configuration, parsed once from the environment. Nothing else in the code base reads
 * `process.env` (lint enforces it); everything receives this object or a part of it.
 */
/** Prices per call in millionths of `currency`; a vendor without a price is absent. */
export interface Pricing {
  readonly currency: string;
  readonly perCall: Readonly<Record<string, number>>;
}

export interface Config {
  /** Redis connection URL. Default `redis://127.0.0.1:6379`. May carry a password: never log it raw. */
  readonly redisUrl: string;
  /** Whether REDIS_URL was set explicitly (the demo only goes looking for a Redis when it was not). */
  readonly redisUrlExplicit: boolean;
  /** Key prefix for every BullMQ and store key. Default `rescreen`. */
  readonly prefix: string;
  /** Each vendor's base URL, credentials and quota, by vendor name (the specs come from the vendor registry). */
  readonly vendors: Readonly<Record<string, VendorSettings>>;
  /** Similarity at or above which identify says `match`. Default 0.75. */
  readonly identifyMatchThreshold: number;
  readonly logLevel: LogLevel;
  readonly worker: WorkerTuning;
  /** Largest media file fetched or read for an OOTO photo, bytes. Default 15 MiB. */
  readonly photoMaxBytes: number;
  /** What a paid call costs (OOTO_PRICE_PER_CALL, GLAIR_PRICE_PER_CALL, RESCREEN_CURRENCY). */
  readonly pricing: Pricing;
  /** RESCREEN_SIGNING_KEY: the Ed25519 private key (PEM file) that signs audit exports; unset: exports need --unsigned. */
  readonly signingKeyPath: string | undefined;
  /** Completion webhook; `undefined` when RESCREEN_WEBHOOK_URL is not set. */
  readonly webhook: WebhookConfig | undefined;
  /** Most bytes of a vendor answer kept in a record (the rest: size and sha256). RESCREEN_MAX_RESPONSE_BYTES, default 65536. */
  readonly maxResponseBytes: number;
  /**
   * Which hosts http(s) media refs may reach: public addresses only, unless RESCREEN_MEDIA_ALLOW_HOSTS
   * (comma-separated host names) or RESCREEN_MEDIA_ALLOW_PRIVATE=true say otherwise.
   */
  readonly mediaHosts: MediaHostPolicy;
  /**
   * RESCREEN_STORE_URL: `postgres://…[?schema=name]` keeps results in PostgreSQL; `undefined` (the
   * default) keeps them in Redis. May carry a password: never log it raw (redactUrl).
   */
  readonly storeUrl: string | undefined;
  /** {@link storeUrl}, read once (its connection string and schema); `undefined` with it. */
  readonly store: PgTarget | undefined;
  /** RESCREEN_KEEP_RESPONSE: what of a vendor answer a record keeps (`minimal` default, or `full`). */
  readonly keepResponse: 'full' | 'minimal';
  /** RESCREEN_MAX_QUEUED: most jobs an enqueue keeps waiting in Redis at once (default 100000). */
  readonly maxQueued: number;
  /**
   * RESCREEN_SIMULATOR_CREDENTIALS: when a vendor with no credential set gets the simulator's test
   * credentials. `auto` (default): only once its loopback base URL answers as the rescreen simulator
   * (see ./simulator-credentials.ts); `always`: at once, whatever the base URL; `never`.
   */
  readonly simulatorCredentials: 'auto' | 'always' | 'never';
  /** `s3://` media and prefixes: RESCREEN_S3_ENDPOINT, _REGION, _FORCE_PATH_STYLE, _ALLOW_BUCKETS (./s3.ts). */
  readonly s3: S3Settings;
  /** OpenTelemetry tracing (README: Tracing): undefined (off) unless an OTLP endpoint or OTEL_TRACES_EXPORTER=otlp is set. */
  readonly tracing: TracingConfig | undefined;
}

/** Where and how a finished batch is announced. */
export interface WebhookConfig {
  /** RESCREEN_WEBHOOK_URL: receives one POST per finished batch (JSON summary). */
  readonly url: string;
  /**
   * RESCREEN_WEBHOOK_SECRET: signs every delivery (Standard Webhooks `webhook-signature`, and the
   * legacy `x-rescreen-signature`); unsigned when absent. `whsec_<base64>`: the key is the decoded
   * bytes; any other text: its UTF-8 bytes (src/notify/webhook.ts, webhookKey).
   */
  readonly secret: string | undefined;
  /** RESCREEN_WEBHOOK_LEGACY_SIGNATURE: also send `x-rescreen-signature: t=…,v1=…` (default true, for one minor version). */
  readonly legacySignature: boolean;
  /** Delivery attempts before giving up (exponential backoff between them). Env RESCREEN_WEBHOOK_ATTEMPTS, default 10. */
  readonly attempts: number;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Knobs for the worker; the defaults suit production, tests shorten them. */
export interface WorkerTuning {
  /**
   * Concurrent jobs per vendor queue per process: fixed, or the starting value when
   * `concurrencyAuto`. Env `RESCREEN_CONCURRENCY` (a number, or `auto`: the default, 16 to start).
   */
  readonly concurrency: number;
  /** Size concurrency from the quota and the observed latency (`RESCREEN_CONCURRENCY=auto`). */
  readonly concurrencyAuto: boolean;
  /** Added to each spaced quota window, ms (absorbs send-to-arrival jitter). Env `RESCREEN_RATE_GUARD_MS`, default 20. */
  readonly rateGuardMs: number;
  /** A job waiting for a quota slot goes back to the queue for at most this long before it asks again, ms. Env `RESCREEN_QUOTA_RECHECK_MS`, default 2000. */
  readonly quotaRecheckMs: number;
  /** A job of a batch at its cap waits this long before it looks again, ms. Env `RESCREEN_HELD_RECHECK_MS`, default 5000. */
  readonly heldRecheckMs: number;
  /** BullMQ attempts per job (transient failures). Env `RESCREEN_ATTEMPTS`, default 5. */
  readonly attempts: number;
  /** Base of BullMQ's exponential backoff between attempts, ms. Env `RESCREEN_BACKOFF_MS`, default 2000. */
  readonly backoffMs: number;
  /** Quick retries inside one attempt (p-retry), only of requests that never reached the vendor. Env `RESCREEN_CALL_RETRIES`, default 2. */
  readonly callRetries: number;
  /** One vendor HTTP call's time limit, ms. Env `RESCREEN_REQUEST_TIMEOUT_MS`, default 60000. */
  readonly requestTimeoutMs: number;
  /**
   * Most bytes of one vendor answer's body read; a longer answer is abandoned at the cap and ends
   * `failed` (VENDOR_ANSWER_TOO_LARGE). Env `RESCREEN_MAX_ANSWER_BYTES`, default 1048576 (1 MiB).
   */
  readonly maxAnswerBytes: number;
  /** Times a job may be sent back by a 429 before it ends `failed`. Env `RESCREEN_MAX_RATE_LIMITED`, default 50. */
  readonly maxRateLimited: number;
  /**
   * BullMQ job lock, ms. Env `RESCREEN_LOCK_MS`, default 20000. BullMQ renews it every half of
   * it while the job runs, so a slow call keeps its lock; a dead worker's jobs are free once it lapses.
   */
  readonly lockDurationMs: number;
  /** How often stalled jobs are looked for, ms. Env `RESCREEN_STALLED_INTERVAL_MS`, default 10000. */
  readonly stalledIntervalMs: number;
  /**
   * Times a job may stall (its worker died mid-job) and still be run again; past that BullMQ gives it
   * up and the line gets a `failed` record (`WORKER_LOST`). Env `RESCREEN_MAX_STALLED`, default 10.
   */
  readonly maxStalledCount: number;
  /**
   * Vendor calls one manifest line may cost, over all its BullMQ attempts and quick in-call retries
   * (calls that provably never reached the vendor do not count). Env `RESCREEN_MAX_CALLS_PER_LINE`, default 4.
   */
  readonly maxCallsPerLine: number;
  /** The vendors' circuit breaker (RESCREEN_BREAKER_*): gateway failures hold a vendor's calls, not its lines. */
  readonly breaker: BreakerSettings;
}

/** The environment holds a value the configuration refuses (CONFIG_INVALID); the message names every bad variable. */
export class ConfigError extends RescreenError {
  override name = 'ConfigError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.CONFIG_INVALID, message, options);
  }
}

/**
 * Parses the environment (default: `process.env`) into a {@link Config}, with the variables of each
 * vendor in `vendors` (the composition root passes the vendor registry's specs: src/runtime/built-ins.ts).
 * @throws ConfigError naming every bad variable, e.g. `OOTO_RATE_LIMIT must read <count>/<s|m|h>…`.
 */
export function parseConfig(vendors: readonly VendorConfigSpec[], env: Readonly<Record<string, string | undefined>> = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  const vendorParsed = vendorEnvSchema(vendors).safeParse(env);
  const s3Parsed = S3EnvSchema.safeParse(env);
  if (!parsed.success || !vendorParsed.success || !s3Parsed.success) {
    const issues = [...(parsed.error?.issues ?? []), ...(vendorParsed.error?.issues ?? []), ...(s3Parsed.error?.issues ?? [])];
    const lines = issues.map((issue) => `${issue.path.join('.') || 'environment'} ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${lines.join('; ')}`);
  }
  const e = parsed.data;
  const v = vendorParsed.data;
  const tracing = parseTracing(env);
  if (tracing !== undefined && 'error' in tracing) throw new ConfigError(`invalid configuration: ${tracing.error}`);
  const requestTimeoutMs = e.RESCREEN_REQUEST_TIMEOUT_MS;
  return {
    redisUrl: e.REDIS_URL ?? DEFAULT_REDIS_URL,
    redisUrlExplicit: e.REDIS_URL !== undefined,
    prefix: e.RESCREEN_PREFIX,
    vendors: Object.fromEntries(vendors.map((spec) => [spec.name, vendorSettings(spec, v, e.RESCREEN_SIMULATOR_CREDENTIALS === 'always')])),
    identifyMatchThreshold: e.IDENTIFY_MATCH_THRESHOLD,
    logLevel: e.LOG_LEVEL,
    worker: {
      concurrency: e.RESCREEN_CONCURRENCY === 'auto' ? DEFAULT_CONCURRENCY : e.RESCREEN_CONCURRENCY,
      concurrencyAuto: e.RESCREEN_CONCURRENCY === 'auto',
      rateGuardMs: e.RESCREEN_RATE_GUARD_MS,
      quotaRecheckMs: e.RESCREEN_QUOTA_RECHECK_MS,
      heldRecheckMs: e.RESCREEN_HELD_RECHECK_MS,
      attempts: e.RESCREEN_ATTEMPTS,
      backoffMs: e.RESCREEN_BACKOFF_MS,
      callRetries: e.RESCREEN_CALL_RETRIES,
      requestTimeoutMs,
      maxAnswerBytes: e.RESCREEN_MAX_ANSWER_BYTES,
      maxRateLimited: e.RESCREEN_MAX_RATE_LIMITED,
      lockDurationMs: e.RESCREEN_LOCK_MS ?? DEFAULT_LOCK_MS,
      stalledIntervalMs: e.RESCREEN_STALLED_INTERVAL_MS,
      maxStalledCount: e.RESCREEN_MAX_STALLED,
      maxCallsPerLine: e.RESCREEN_MAX_CALLS_PER_LINE,
      breaker: breakerSettings(e),
    },
    photoMaxBytes: e.RESCREEN_PHOTO_MAX_BYTES,
    webhook:
      e.RESCREEN_WEBHOOK_URL === undefined
        ? undefined
        : {
            url: e.RESCREEN_WEBHOOK_URL,
            secret: e.RESCREEN_WEBHOOK_SECRET,
            legacySignature: e.RESCREEN_WEBHOOK_LEGACY_SIGNATURE,
            attempts: e.RESCREEN_WEBHOOK_ATTEMPTS,
          },
    maxResponseBytes: e.RESCREEN_MAX_RESPONSE_BYTES,
    mediaHosts: { allowHosts: e.RESCREEN_MEDIA_ALLOW_HOSTS, allowPrivate: e.RESCREEN_MEDIA_ALLOW_PRIVATE },
    signingKeyPath: e.RESCREEN_SIGNING_KEY,
    pricing: {
      currency: e.RESCREEN_CURRENCY,
      perCall: Object.fromEntries(
        vendors.flatMap((spec) => {
          const micros = v[spec.priceVar] as number | undefined;
          return micros === undefined ? [] : [[spec.name, micros]];
        }),
      ),
    },
    storeUrl: e.RESCREEN_STORE_URL?.url,
    store: e.RESCREEN_STORE_URL?.target,
    keepResponse: e.RESCREEN_KEEP_RESPONSE,
    maxQueued: e.RESCREEN_MAX_QUEUED,
    simulatorCredentials: e.RESCREEN_SIMULATOR_CREDENTIALS,
    s3: s3Settings(s3Parsed.data),
    tracing,
  };
}

/**
 * Keeps the AWS SDK's "versions after January 2027 require Node >= 22" notice off users' stderr, by
 * the SDK's documented switch (AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED), unless set already.
 */
export function quietAwsSdkNotice(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

/** `simulated`: RESCREEN_SIMULATOR_CREDENTIALS=1, a vendor with no credential set gets the simulator's at once. */
function vendorSettings(spec: VendorConfigSpec, v: Readonly<Record<string, unknown>>, simulated: boolean): VendorSettings {
  const baseUrl = v[spec.baseUrlVar] as string;
  const quota = v[spec.rateLimitVar] as Quota | undefined;
  const given = Object.fromEntries(Object.entries(spec.credentials).map(([key, variable]) => [key, v[variable] as string | undefined]));
  const credentials = simulated && hasNoCredential(given) && spec.simulatorCredentials !== undefined ? { ...given, ...spec.simulatorCredentials } : given;
  const pricePerCall = v[spec.priceVar] as number | undefined;
  return { name: spec.name, baseUrl, credentials, quota, rateLimit: plainRate(quota), pricePerCall, spec };
}

/**
 * The credential variables a vendor needs that are not set (empty when it has them all), e.g.
 * `['OOTO_APP_ID', 'OOTO_APP_KEY']`: a worker with jobs for that vendor must not start (it would
 * pay, or at least call, to learn it from a 401). A vendor the configuration does not know: none.
 */
export function missingCredentials(config: Config, vendor: string): string[] {
  const settings = config.vendors[vendor];
  if (settings === undefined) return [];
  return Object.entries(settings.spec.credentials)
    .filter(([key]) => settings.credentials[key] === undefined)
    .map(([, variable]) => variable);
}

/**
 * The secret values of a config, for redaction of free text and stored vendor answers: each
 * vendor's credentials and what its spec derives from them (GLAIR: `Basic base64(username:password)`,
 * and the base64 alone, which is what an answer echoing our headers carries), and the webhook secret.
 * Longest first, so no secret is half-replaced.
 */
export function secretsOf(config: Config): string[] {
  const vendorSecrets = Object.values(config.vendors).flatMap((s) => [
    ...Object.values(s.credentials),
    ...(s.spec.derivedSecrets?.(s.credentials) ?? []),
  ]);
  return [...vendorSecrets, config.webhook?.secret, ...(config.tracing?.headerValues ?? [])]
    .filter((s): s is string => s !== undefined && s.length >= MIN_CREDENTIAL_LENGTH)
    .sort((a, b) => b.length - a.length);
}

/** Replaces every configured secret in free text, as a whole token (see redact.ts). */
export function configRedactor(config: Config): (text: string) => string {
  return secretRedactor(secretsOf(config));
}

/** A Redis or PostgreSQL URL with any password replaced, fit for a message. */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/**
 * Parses the environment of `rescreen serve` (API tokens, manifest root, body limit).
 * @throws ConfigError naming every bad variable, never a token.
 */
export function loadServerConfig(env: Readonly<Record<string, string | undefined>> = process.env): ServerConfig {
  const parsed = parseServerEnv(env);
  if ('problems' in parsed) throw new ConfigError(`invalid configuration: ${parsed.problems.join('; ')}`);
  return parsed;
}
