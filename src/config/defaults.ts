/**
 * Every default value in one place: the environment schema (env-schema.ts) and the modules that take
 * the same setting as an option (vendor transport, media loader, producer, stored answers, Redis
 * locator) read them from here, so a default cannot differ between the CLI and a library caller.
 * Leaf module: it imports nothing.
 */

/** REDIS_URL. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
/** RESCREEN_PREFIX: key prefix of every BullMQ and store key. */
export const DEFAULT_PREFIX = 'rescreen';
/** IDENTIFY_MATCH_THRESHOLD: similarity at or above which identify says `match`. */
export const DEFAULT_IDENTIFY_MATCH_THRESHOLD = 0.75;
/** LOG_LEVEL. */
export const DEFAULT_LOG_LEVEL = 'info';

// ---------------------------------------------------------------- vendor calls

/** RESCREEN_REQUEST_TIMEOUT_MS: time limit of one vendor HTTP call (headers and body), ms. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
/** RESCREEN_CALL_RETRIES: quick in-call retries of a failure before the request was sent. */
export const DEFAULT_CALL_RETRIES = 2;
/** Delay before the first quick in-call retry, ms (doubled each time, randomised ×1–2). */
export const DEFAULT_RETRY_MIN_TIMEOUT_MS = 200;
/** Sockets of a vendor client's own keep-alive Pool. */
export const DEFAULT_CONNECTIONS = 16;
/** Time limit to establish a TCP/TLS connection to a vendor, ms. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** How long an idle keep-alive socket to a vendor stays open, ms. */
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 30_000;
/** RESCREEN_MAX_CALLS_PER_LINE: vendor calls one manifest line may cost over all its attempts. */
export const DEFAULT_MAX_CALLS_PER_LINE = 4;
/**
 * RESCREEN_MAX_ANSWER_BYTES: most bytes of a vendor answer's body read (1 MiB); a longer answer is
 * abandoned at the cap (VENDOR_ANSWER_TOO_LARGE). The vendors' answers are a few KiB of JSON.
 */
export const DEFAULT_MAX_ANSWER_BYTES = 1024 * 1024;
/** RESCREEN_MAX_RESPONSE_BYTES: most bytes of a vendor answer kept in a record (64 KiB). */
export const DEFAULT_MAX_RESPONSE_BYTES = 65_536;

// ---------------------------------------------------------------- workers

/** RESCREEN_CONCURRENCY: jobs per vendor queue per process (`auto` starts here). */
export const DEFAULT_CONCURRENCY = 16;
/** RESCREEN_RATE_GUARD_MS: added to each spaced quota window, ms. */
export const DEFAULT_RATE_GUARD_MS = 20;
/** RESCREEN_QUOTA_RECHECK_MS: longest wait of a job back in the queue for a quota slot, ms. */
export const DEFAULT_QUOTA_RECHECK_MS = 2_000;
/** RESCREEN_ATTEMPTS: BullMQ attempts per job. */
export const DEFAULT_ATTEMPTS = 5;
/** RESCREEN_BACKOFF_MS: base of BullMQ's exponential backoff between attempts, ms. */
export const DEFAULT_BACKOFF_MS = 2_000;
/** RESCREEN_MAX_RATE_LIMITED: times a job may be sent back by a 429 before it ends `failed`. */
export const DEFAULT_MAX_RATE_LIMITED = 50;
/** RESCREEN_LOCK_MS: BullMQ job lock, ms. */
export const DEFAULT_LOCK_MS = 20_000;
/** RESCREEN_STALLED_INTERVAL_MS: how often stalled jobs are looked for, ms. */
export const DEFAULT_STALLED_INTERVAL_MS = 10_000;
/** RESCREEN_MAX_STALLED: times a job may stall and still be run again. */
export const DEFAULT_MAX_STALLED = 10;
/** RESCREEN_BREAKER_FAILURES: gateway failures in a row (502/503/504, refused, reset before any answer) that open a vendor's breaker. */
export const DEFAULT_BREAKER_FAILURES = 5;
/** RESCREEN_BREAKER_BASE_MS: first wait of an open breaker before one call tests the vendor, ms (doubles per failed test). */
export const DEFAULT_BREAKER_BASE_MS = 1_000;
/** RESCREEN_BREAKER_MAX_MS: longest wait between two tests of an unreachable vendor, ms. */
export const DEFAULT_BREAKER_MAX_MS = 60_000;
/** RESCREEN_BREAKER_ALERT_MS: a breaker open this long is reported (status, /readyz, metrics, log), ms (15 min). */
export const DEFAULT_BREAKER_ALERT_MS = 900_000;
/** `--failure-window`: finished lines of a batch its `--max-failure-rate` is taken over. */
export const DEFAULT_FAILURE_WINDOW = 100;
/** The largest `--failure-window` (its counts live in the batch's hash, one field per line of the window). */
export const MAX_FAILURE_WINDOW = 10_000;

// ---------------------------------------------------------------- media

/** RESCREEN_PHOTO_MAX_BYTES: largest photo accepted, bytes (15 MiB). */
export const DEFAULT_PHOTO_MAX_BYTES = 15 * 1024 * 1024;
/** Largest video, and frames in total, when a vendor sets no `bodyMaxBytes` (6 MiB: GLAIR's cap). */
export const DEFAULT_BODY_MAX_BYTES = 6 * 1024 * 1024;
/** Time limit of one http(s) media download, ms. */
export const DEFAULT_FETCH_TIMEOUT_MS = 30_000;

// ---------------------------------------------------------------- producer and webhook

/** Manifest lines per chunk of the producer and of `retry` (one `addBulk` per vendor per chunk). */
export const DEFAULT_CHUNK_SIZE = 1_000;
/** RESCREEN_WEBHOOK_ATTEMPTS: delivery attempts of a completion webhook. */
export const DEFAULT_WEBHOOK_ATTEMPTS = 10;

/** RESCREEN_HELD_RECHECK_MS: how long a job of a batch at its --max-calls / --max-spend cap waits before it looks again, ms. */
export const DEFAULT_HELD_RECHECK_MS = 5_000;
/** RESCREEN_CURRENCY: the currency of OOTO_PRICE_PER_CALL / GLAIR_PRICE_PER_CALL. */
export const DEFAULT_CURRENCY = 'USD';
/**
 * RESCREEN_KEEP_RESPONSE default: `minimal` keeps of a vendor answer what the verdict, the score and
 * an audit need and drops the vendor's demography (age, gender, race) and landmarks: data rescreen
 * never uses is data it should not hold (GDPR art. 5(1)(c)). `full` keeps the whole answer.
 */
export const DEFAULT_KEEP_RESPONSE = 'minimal';
/** RESCREEN_MAX_QUEUED default: jobs waiting in Redis at once per batch enqueue (~0.8 KB each: ~80 MB). */
export const DEFAULT_MAX_QUEUED = 100_000;
