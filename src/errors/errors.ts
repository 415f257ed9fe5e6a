/**
 * The one error taxonomy (after openai-node's core/error.ts). Code decides by `instanceof`, never by
 * matching message text. No error here ever carries a credential: request headers are not kept.
 */
import { httpStatusCode, type HttpStatusCode } from './http-failure.js';

export type { HttpStatusCode } from './http-failure.js';

/**
 * Base of every error rescreen raises on purpose. `code` is what lands in a record's `error.code`
 * (or, for errors that stop a command, what names the failure): always an {@link ErrorCode}.
 */
export class RescreenError extends Error {
  override name = 'RescreenError';
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

// ---------------------------------------------------------------- vendor errors

/** Anything that went wrong talking to a vendor. */
export class VendorError extends RescreenError {
  override name = 'VendorError';
  /** The vendor's name (its definition's `name`, src/vendors/types.ts `Vendor`): errors sit below the vendors. */
  readonly vendor: string;
  /** The vendor's id for the call (OOTO body `transactionId`, GLAIR `Request-Id` header), if any answered. */
  readonly transactionId: string | null;
  constructor(vendor: string, code: ErrorCode, message: string, transactionId: string | null, options?: { cause?: unknown }) {
    super(code, message, options);
    this.vendor = vendor;
    this.transactionId = transactionId;
  }
}

/** The vendor answered with an HTTP status that is not a usable result. */
export class VendorApiError extends VendorError {
  override name = 'VendorApiError';
  readonly status: number;
  /** Response headers, lower-cased names. */
  readonly headers: Readonly<Record<string, string>>;
  /** Parsed JSON body when it was JSON, else the text (truncated), else null. */
  readonly body: unknown;
  constructor(args: {
    vendor: string;
    status: number;
    headers: Record<string, string>;
    body: unknown;
    transactionId: string | null;
    message: string;
    /** The vendor's own code (OOTO engine number, GLAIR status string) or `HTTP_<status>`. Default `HTTP_<status>`. */
    code?: VendorEngineValue;
  }) {
    super(args.vendor, args.code === undefined ? httpStatusCode(args.status) : vendorCode(args.code), args.message, args.transactionId);
    this.status = args.status;
    this.headers = args.headers;
    this.body = args.body;
  }
}

/** 401: the credentials are wrong or missing; every job of this vendor would fail the same way. */
export class AuthenticationError extends VendorApiError {
  override name = 'AuthenticationError';
}
/** 403: the account may not use this endpoint; every job of this vendor would fail the same way. */
export class PermissionDeniedError extends VendorApiError {
  override name = 'PermissionDeniedError';
}
/** 429: over quota. `retryAfterMs` from `Retry-After` when the vendor sent one (GLAIR does not). */
export class RateLimitedError extends VendorApiError {
  override name = 'RateLimitedError';
  readonly retryAfterMs: number | undefined;
  constructor(args: ConstructorParameters<typeof VendorApiError>[0] & { retryAfterMs: number | undefined }) {
    super(args);
    this.retryAfterMs = args.retryAfterMs;
  }
}
/** 5xx (and 408): the vendor had a problem; worth another try. */
export class InternalServerError extends VendorApiError {
  override name = 'InternalServerError';
}

/**
 * A final answer from the vendor that this media is unusable: OOTO engine codes (1–6, 9 and any it
 * adds), GLAIR statuses NO_FILE / FILE_INVALID_FORMAT / FAILED / ERROR, HTTP 415. Ends `rejected`.
 * `code` keeps the vendor's own value (OOTO's number, GLAIR's status string).
 */
export class VendorRejectedError extends VendorApiError {
  override name = 'VendorRejectedError';
}

/** The vendor answered, but not in a shape we can read (bad JSON, schema mismatch). Ends `failed`. */
export class MalformedResponseError extends VendorError {
  override name = 'MalformedResponseError';
  readonly status: number;
  readonly body: unknown;
  constructor(vendor: string, status: number, body: unknown, transactionId: string | null, message: string) {
    super(vendor, ErrorCodes.VENDOR_MALFORMED_RESPONSE, message, transactionId);
    this.status = status;
    this.body = body;
  }
}

/**
 * An answer over RESCREEN_MAX_ANSWER_BYTES, abandoned unread at the cap (its body is not kept). Final
 * (a vendor that sent it once will again) and paid (it reached the vendor). Never for 401/403/429/408/
 * 5xx: those keep their own error, their body replaced by a note (vendors/send.ts).
 */
export class AnswerTooLargeError extends VendorError {
  override name = 'AnswerTooLargeError';
  readonly status: number;
  /** Response headers, lower-cased names. */
  readonly headers: Readonly<Record<string, string>>;
  /** The cap in force, bytes. */
  readonly maxBytes: number;
  constructor(args: { vendor: string; status: number; headers: Record<string, string>; maxBytes: number; message: string }) {
    super(args.vendor, ErrorCodes.VENDOR_ANSWER_TOO_LARGE, args.message, null);
    this.status = args.status;
    this.headers = args.headers;
    this.maxBytes = args.maxBytes;
  }
}

/** Options of the "no answer" errors. */
export interface NoAnswerOptions {
  readonly cause?: unknown;
  /**
   * Whether the request may have reached the vendor (and so may be billed). `false` only when it
   * provably did not: refused, DNS, unreachable, connect timeout, TLS handshake. Default `true`.
   */
  readonly requestSent?: boolean;
  /** The vendor had begun its answer (status and headers came) when the connection failed. Default `false`. */
  readonly answerStarted?: boolean;
}

/** No answer: connection refused, reset, DNS, TLS. Transient. */
export class ConnectionError extends VendorError {
  override name = 'ConnectionError';
  /** See {@link NoAnswerOptions.requestSent}. */
  readonly requestSent: boolean;
  /** See {@link NoAnswerOptions.answerStarted}: a reset before it is the vendor's gateway failing, not this call. */
  readonly answerStarted: boolean;
  constructor(vendor: string, message: string, options?: NoAnswerOptions) {
    super(vendor, ErrorCodes.VENDOR_CONNECTION, message, null, options);
    this.requestSent = options?.requestSent ?? true;
    this.answerStarted = options?.answerStarted ?? false;
  }
}

/** No answer in time. Transient. */
export class TimeoutError extends VendorError {
  override name = 'TimeoutError';
  /** See {@link NoAnswerOptions.requestSent}; `false` only for a connect timeout. */
  readonly requestSent: boolean;
  constructor(vendor: string, message: string, options?: NoAnswerOptions) {
    super(vendor, ErrorCodes.VENDOR_TIMEOUT, message, null, options);
    this.requestSent = options?.requestSent ?? true;
  }
}

/**
 * The line had used its RESCREEN_MAX_CALLS_PER_LINE vendor calls before this attempt could make one (a
 * worker died mid-call: no cause known). Ends `failed` (CALL_BUDGET_EXHAUSTED, stoppedBy `call-budget`).
 */
export class CallBudgetExhaustedError extends RescreenError {
  override name = 'CallBudgetExhaustedError';
  constructor(message: string) {
    super(ErrorCodes.CALL_BUDGET_EXHAUSTED, message);
  }
}

/**
 * Not an answer: the fleet's admission control will not give this vendor a call slot for a while
 * (a spent budget window, a long 429 pause). The job goes back to the queue without spending an
 * attempt and without counting as rate-limited; it never ends up in a record.
 */
export class QuotaWaitError extends VendorError {
  override name = 'QuotaWaitError';
  /** How long until a slot may be had, ms. */
  readonly waitMs: number;
  constructor(vendor: string, waitMs: number, message: string) {
    super(vendor, ErrorCodes.QUOTA_WAIT, message, null);
    this.waitMs = waitMs;
  }
}

/**
 * Not an answer: the batch may not make another paid call now — its `--max-calls` / `--max-spend`
 * cap is reached, it is paused, another line is paying for the same media (`dedupe`), or it was
 * enqueued into another result store than this worker's (`store`). The job waits (delayed, no
 * attempt spent); it never ends up in a record.
 */
export class BatchHeldError extends RescreenError {
  override name = 'BatchHeldError';
  constructor(
    readonly reason: 'budget' | 'paused' | 'dedupe' | 'store',
    message: string,
  ) {
    super(ErrorCodes.BATCH_HELD, message);
  }
}

/** `rescreen batch cancel`: the line was not sent; it ends `failed` (CANCELLED), and `rescreen retry` sends it. */
export class BatchCancelledError extends RescreenError {
  override name = 'BatchCancelledError';
  constructor(message: string) {
    super(ErrorCodes.CANCELLED, message);
  }
}

// ---------------------------------------------------------------- media errors

/**
 * Local validation found media the vendor would refuse anyway (empty, wrong type, too large).
 * Ends `rejected` and no paid call is made.
 */
export class MediaRejectedError extends RescreenError {
  override name = 'MediaRejectedError';
}

/** The media could not be read (missing file, HTTP 404, refused link). Ends `failed`. */
export class MediaUnavailableError extends RescreenError {
  override name = 'MediaUnavailableError';
}

/** Fetching remote media failed in a way worth retrying (network error, 5xx, timeout). */
export class MediaFetchError extends RescreenError {
  override name = 'MediaFetchError';
}

/**
 * Every local error code: what lands in a record's `error.code` and what names an error that stops a
 * command. Vendor engine codes keep the vendor's values ({@link VendorEngineCode}); a bare HTTP status
 * is `HTTP_<status>` ({@link HttpStatusCode}). Each one is listed in the README ("The result record",
 * the `error` row); test/unit/errors/error-codes.test.ts checks that nothing in src/ uses another.
 */
export const ErrorCodes = {
  /** A manifest line that cannot be run (bad JSON, missing field, unknown check). */
  INVALID_LINE: 'INVALID_LINE',
  MEDIA_EMPTY: 'MEDIA_EMPTY',
  MEDIA_UNSUPPORTED_TYPE: 'MEDIA_UNSUPPORTED_TYPE',
  MEDIA_TOO_LARGE: 'MEDIA_TOO_LARGE',
  MEDIA_NOT_FOUND: 'MEDIA_NOT_FOUND',
  MEDIA_UNREADABLE: 'MEDIA_UNREADABLE',
  /** A download kept failing (network, timeout, HTTP 5xx/408/429): retried. */
  MEDIA_FETCH: 'MEDIA_FETCH',
  /** The object store refused to give the media (`AccessDenied`, HTTP 403): final, not retried, no vendor call. */
  MEDIA_ACCESS_DENIED: 'MEDIA_ACCESS_DENIED',
  /** An http(s) ref (or one of its redirects) to a loopback, private, link-local or metadata address. */
  MEDIA_HOST_REFUSED: 'MEDIA_HOST_REFUSED',
  /** Served media (the dashboard's media route) whose bytes no longer hash to the record's sha256: never in a record. */
  MEDIA_CHANGED: 'MEDIA_CHANGED',
  /** The line had cost RESCREEN_MAX_CALLS_PER_LINE vendor calls before an attempt whose cause is unknown (a worker died mid-call). */
  CALL_BUDGET_EXHAUSTED: 'CALL_BUDGET_EXHAUSTED',
  WORKER_LOST: 'WORKER_LOST',
  /** No answer from the vendor: connection refused, reset, DNS, TLS. */
  VENDOR_CONNECTION: 'VENDOR_CONNECTION',
  /** No answer from the vendor in time. */
  VENDOR_TIMEOUT: 'VENDOR_TIMEOUT',
  /** The vendor answered in a shape we cannot read. */
  VENDOR_MALFORMED_RESPONSE: 'VENDOR_MALFORMED_RESPONSE',
  /** The vendor's answer was over RESCREEN_MAX_ANSWER_BYTES: abandoned unread at the cap (final). */
  VENDOR_ANSWER_TOO_LARGE: 'VENDOR_ANSWER_TOO_LARGE',
  /** Internal only: waiting for a quota slot (never stored). */
  QUOTA_WAIT: 'QUOTA_WAIT',
  /** Internal only: the batch is paused or at its call or spend cap; its jobs wait (never stored). */
  BATCH_HELD: 'BATCH_HELD',
  /** `rescreen batch cancel` ended the line before it was sent; `rescreen retry` sends it. */
  CANCELLED: 'CANCELLED',
  /** Anything unexpected that reached a record. */
  INTERNAL: 'INTERNAL',
  // ---- errors that stop a command (never in a record)
  /** `--batch` is not a valid batch id. */
  INVALID_BATCH_ID: 'INVALID_BATCH_ID',
  /** The manifest cannot be read at all (missing, no permission, a CSV header naming no column). */
  MANIFEST_UNREADABLE: 'MANIFEST_UNREADABLE',
  /** A schedule that cannot be accepted (name, `--every`, cron, time zone, manifest). */
  INVALID_SCHEDULE: 'INVALID_SCHEDULE',
  /** The completion webhook did not answer (an answer other than 2xx is `HTTP_<status>`). */
  WEBHOOK_UNREACHABLE: 'WEBHOOK_UNREACHABLE',
  /** An environment variable has a value the configuration refuses. */
  CONFIG_INVALID: 'CONFIG_INVALID',
  /** No Redis could be reached or started. */
  REDIS_UNAVAILABLE: 'REDIS_UNAVAILABLE',
  /** RESCREEN_STORE_URL's PostgreSQL did not answer, or its schema could not be migrated. */
  STORE_UNAVAILABLE: 'STORE_UNAVAILABLE',
  /** The manifest of a batch changed since the batch was enqueued (its fingerprint differs). */
  MANIFEST_CHANGED: 'MANIFEST_CHANGED',
  /** A RESCREEN_PREFIX whose keys would land in several Redis Cluster slots. */
  PREFIX_NOT_CLUSTER_SAFE: 'PREFIX_NOT_CLUSTER_SAFE',
  /** The application layer could not use its input (exit 2). */
  INVALID_INPUT: 'INVALID_INPUT',
  /** The application layer found no such batch, record or schedule (exit 1). */
  NOT_FOUND: 'NOT_FOUND',
  /** The thing is someone else's just now: a review case another reviewer holds a live claim on (exit 2, HTTP 409). */
  CONFLICT: 'CONFLICT',
  /** A wait of the programmatic API or the testing kit (`waitForBatch`) ran out of time. */
  WAIT_TIMEOUT: 'WAIT_TIMEOUT',
  // ---- HTTP API answers (application/problem+json), never in a record
  /** No bearer token, or none of the configured ones (HTTP 401). */
  UNAUTHORIZED: 'UNAUTHORIZED',
  /** A read-only token asked for a state-changing route (HTTP 403). */
  FORBIDDEN: 'FORBIDDEN',
  /** A request body over RESCREEN_API_BODY_LIMIT (HTTP 413). */
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
} as const;

/** A local error code: one of {@link ErrorCodes}. */
export type LocalErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

declare const vendorStatusBrand: unique symbol;
/**
 * A vendor's own status string kept as the code (GLAIR `NO_FILE`, `FILE_INVALID_FORMAT`, `FAILED`,
 * `ERROR`, or any status it adds). Branded: only {@link vendorCode} makes one, so a plain string
 * literal cannot pass for a code.
 */
export type VendorStatusCode = string & { readonly [vendorStatusBrand]: true };
/** A vendor engine code: OOTO's number or a vendor's status string. */
export type VendorEngineCode = number | VendorStatusCode;
/** What a record's `error.code` holds: a local code, a bare HTTP status, or the vendor's own code. */
export type ErrorCode = LocalErrorCode | HttpStatusCode | VendorEngineCode;
/** A code as a vendor client reads it from an answer, before {@link vendorCode} types it. */
export type VendorEngineValue = number | string;

/** Types a vendor's own code: a number stays one, `HTTP_<n>` is an {@link HttpStatusCode}, any other string a {@link VendorStatusCode}. */
export function vendorCode(value: VendorEngineValue): VendorEngineCode | HttpStatusCode {
  if (typeof value === 'number') return value;
  return /^HTTP_\d+$/.test(value) ? (value as HttpStatusCode) : (value as VendorStatusCode);
}

// ---------------------------------------------------------------- application errors

/**
 * Input the application layer cannot use: a bad batch id, an unreadable manifest, a vendor with
 * jobs to do and no credentials, a malformed quota. The CLI exits 2 on it, the API answers 400.
 */
export class InvalidInputError extends RescreenError {
  override name = 'InvalidInputError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_INPUT', message, options);
  }
}

/** No such batch, record or schedule. The CLI exits 1 on it, the API answers 404. */
export class NotFoundError extends RescreenError {
  override name = 'NotFoundError';
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}

/** Someone else holds it: a review case claimed by another reviewer. The CLI exits 2, the API answers 409. */
export class ConflictError extends RescreenError {
  override name = 'ConflictError';
  constructor(message: string) {
    super(ErrorCodes.CONFLICT, message);
  }
}

/** A wait of the programmatic API or the testing kit ran out of time (`waitForBatch` with `timeoutMs`). */
export class WaitTimeoutError extends RescreenError {
  override name = 'WaitTimeoutError';
  constructor(message: string) {
    super(ErrorCodes.WAIT_TIMEOUT, message);
  }
}
