/**
 * Shared HTTP machinery of the vendor clients: one keep-alive undici Pool per vendor origin, one
 * `send()` with an overall time limit that maps transport failures to the error taxonomy, one status
 * mapping for the answers every vendor shares (401/403/429/408/5xx), and the quick in-call retries.
 * No function here keeps or reports request headers: they carry credentials.
 */
import pRetry from 'p-retry';
import { Pool, errors as undiciErrors, type Dispatcher, type FormData } from 'undici';
import type { Vendor } from '../checks/registry.js';
import {
  AuthenticationError,
  ConnectionError,
  InternalServerError,
  PermissionDeniedError,
  RateLimitedError,
  TimeoutError,
  VendorApiError,
} from '../errors/errors.js';
import { parseRetryAfter, shouldRetry } from '../errors/retry-policy.js';

/** Default time limit of one vendor HTTP call (headers and body), ms. */
export const DEFAULT_TIMEOUT_MS = 60_000;
/** Default number of quick in-call retries of a transient failure. */
export const DEFAULT_CALL_RETRIES = 2;
/** Default delay before the first quick retry, ms (doubled each time, randomised ×1–2). */
export const DEFAULT_RETRY_MIN_TIMEOUT_MS = 200;
/** Longest text body kept on an error, characters. */
export const MAX_TEXT_BODY_CHARS = 2048;

const VENDOR_LABEL: Record<Vendor, string> = { ooto: 'OOTO', glair: 'GLAIR' };

/** Human name of a vendor for messages. */
export function vendorLabel(vendor: Vendor): string {
  return VENDOR_LABEL[vendor];
}

// ---------------------------------------------------------------- base URL and dispatcher

/** A vendor base URL split into what undici needs: the origin and an optional path prefix. */
export interface VendorEndpoint {
  /** `scheme://host[:port]`. */
  readonly origin: string;
  /** Path prefix without a trailing slash, `''` when none (e.g. `/ooto` for `http://127.0.0.1:4010/ooto`). */
  readonly basePath: string;
}

/** Splits a base URL (which may carry a path prefix) into origin and prefix. Throws TypeError when not a URL. */
export function parseBaseUrl(baseUrl: string): VendorEndpoint {
  const url = new URL(baseUrl);
  return { origin: url.origin, basePath: url.pathname.replace(/\/+$/, '') };
}

/**
 * Joins the base path prefix and an endpoint path, with an optional query (`undefined` values are
 * left out). `joinPath('/ooto', '/api/v1.0/identify', {check_liveness: 'true'})` →
 * `/ooto/api/v1.0/identify?check_liveness=true`.
 */
export function joinPath(basePath: string, path: string, query?: Readonly<Record<string, string | undefined>>): string {
  const joined = `${basePath.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
  if (query === undefined) return joined;
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) params.append(name, value);
  }
  const search = params.toString();
  return search === '' ? joined : `${joined}?${search}`;
}

export interface VendorDispatcherOptions {
  /** Most concurrent sockets to the vendor origin. Default 16. */
  readonly connections?: number;
  /** Time limit to establish a TCP/TLS connection, ms. Default 10000. */
  readonly connectTimeoutMs?: number;
  /** How long an idle keep-alive socket stays open, ms. Default 30000 (the server's hint may shorten it). */
  readonly keepAliveTimeoutMs?: number;
}

/** A keep-alive undici Pool to the origin of `baseUrl` (any path prefix is ignored here). */
export function createVendorDispatcher(baseUrl: string, options: VendorDispatcherOptions = {}): Pool {
  const { origin } = parseBaseUrl(baseUrl);
  return new Pool(origin, {
    connections: options.connections ?? 16,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
  });
}

// ---------------------------------------------------------------- send

export interface VendorRequest {
  readonly vendor: Vendor;
  readonly dispatcher: Dispatcher;
  readonly origin: string;
  /** Full path including any prefix and query (see {@link joinPath}). */
  readonly path: string;
  readonly method: 'GET' | 'POST';
  /** Request headers. Never kept on errors: they carry credentials. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | Buffer | FormData;
  /** Overall limit for this one call (headers and body), ms. */
  readonly timeoutMs: number;
  /** The caller's signal; its abort is re-thrown as-is (no taxonomy error). */
  readonly signal?: AbortSignal | undefined;
}

/** Any HTTP answer, whatever its status. */
export interface VendorResponse {
  readonly status: number;
  /** Lower-cased names; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  /** Parsed JSON when the body parses, else its text truncated to ~2 KB, `null` when empty. */
  readonly body: unknown;
}

/**
 * Sends one request and reads the whole answer. Any HTTP status resolves; only transport failures
 * throw: TimeoutError (our limit, undici headers/body/connect timeouts), ConnectionError (socket,
 * refused, reset, DNS, TLS), the caller's abort reason as-is, anything unrecognised as-is.
 */
export async function send(request: VendorRequest): Promise<VendorResponse> {
  const timeoutSignal = AbortSignal.timeout(request.timeoutMs);
  const signal = request.signal ? AbortSignal.any([request.signal, timeoutSignal]) : timeoutSignal;
  try {
    const response = await request.dispatcher.request({
      origin: request.origin,
      path: request.path,
      method: request.method,
      headers: { ...request.headers },
      body: request.body ?? null,
      headersTimeout: request.timeoutMs,
      bodyTimeout: request.timeoutMs,
      signal,
    });
    const text = await response.body.text();
    return { status: response.statusCode, headers: lowerCaseHeaders(response.headers), body: parseBody(text) };
  } catch (error) {
    if (request.signal?.aborted) throw error;
    if (timeoutSignal.aborted) {
      throw new TimeoutError(
        request.vendor,
        `${vendorLabel(request.vendor)} did not answer ${request.method} ${request.path} within ${request.timeoutMs} ms`,
        { cause: error },
      );
    }
    throw toTransportError(request.vendor, error, request) ?? error;
  }
}

/** JSON when it parses, else the text truncated to {@link MAX_TEXT_BODY_CHARS}, `null` when empty. */
export function parseBody(text: string): unknown {
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text.length > MAX_TEXT_BODY_CHARS ? `${text.slice(0, MAX_TEXT_BODY_CHARS)}…` : text;
  }
}

function lowerCaseHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

// ---------------------------------------------------------------- transport errors

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);

const CONNECTION_CODES = new Set([
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
]);

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const { code } = error;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Codes of failures before the request was written: nothing reached the vendor, so a quick retry
 * cannot be billed twice. (A reset, a socket error or a headers/body timeout may come after the
 * vendor got the request: those are "possibly billed".)
 */
const NOT_SENT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
]);

type TransportKind = 'timeout' | 'connection';

/** True when the failure provably happened before the request was sent (connect phase, TLS handshake). */
function beforeSend(error: unknown, depth = 0): boolean {
  if (depth > 3 || typeof error !== 'object' || error === null) return false;
  if (error instanceof undiciErrors.ConnectTimeoutError) return true;
  const code = codeOf(error);
  if (code !== undefined && (NOT_SENT_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_'))) return true;
  // Happy eyeballs: every address failed to connect.
  if (error instanceof AggregateError && error.errors.length > 0) return error.errors.every((inner) => beforeSend(inner, depth + 1));
  return error instanceof Error && error.cause !== undefined ? beforeSend(error.cause, depth + 1) : false;
}

function classify(error: unknown, depth = 0): TransportKind | undefined {
  if (depth > 3 || typeof error !== 'object' || error === null) return undefined;
  if (
    error instanceof undiciErrors.HeadersTimeoutError ||
    error instanceof undiciErrors.BodyTimeoutError ||
    error instanceof undiciErrors.ConnectTimeoutError
  ) {
    return 'timeout';
  }
  if (error instanceof undiciErrors.SocketError) return 'connection';
  const code = codeOf(error);
  if (code !== undefined) {
    if (TIMEOUT_CODES.has(code)) return 'timeout';
    if (CONNECTION_CODES.has(code)) return 'connection';
    // HTTP parser errors (garbage from the peer) and TLS failures: no usable answer.
    if (code.startsWith('HPE_') || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_')) return 'connection';
  }
  // Happy-eyeballs connect failures arrive as an AggregateError of per-address errors.
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const kind = classify(inner, depth + 1);
      if (kind !== undefined) return kind;
    }
  }
  if (error instanceof Error && error.cause !== undefined) return classify(error.cause, depth + 1);
  return undefined;
}

/**
 * The taxonomy error for a transport failure, or `undefined` when the error is not one we recognise
 * (it is then re-thrown as-is and ends `failed`). Decides by `instanceof` and `code`, never by message.
 */
export function toTransportError(
  vendor: Vendor,
  error: unknown,
  where: { readonly method: string; readonly path: string },
): TimeoutError | ConnectionError | undefined {
  const kind = classify(error);
  const code = codeOf(error);
  const detail = code === undefined ? '' : ` (${code})`;
  const requestSent = !beforeSend(error);
  switch (kind) {
    case 'timeout':
      return new TimeoutError(vendor, `${vendorLabel(vendor)} timed out on ${where.method} ${where.path}${detail}`, { cause: error, requestSent });
    case 'connection':
      return new ConnectionError(vendor, `${vendorLabel(vendor)} connection failed on ${where.method} ${where.path}${detail}`, {
        cause: error,
        requestSent,
      });
    case undefined:
      return undefined;
  }
}

// ---------------------------------------------------------------- status errors

/** True for the statuses whose meaning is the same at every vendor (see {@link statusError}). */
export function isSharedErrorStatus(status: number): boolean {
  return status === 401 || status === 403 || status === 429 || status === 408 || status >= 500;
}

/** True for a 2xx status. */
export function isSuccessStatus(status: number): boolean {
  return status >= 200 && status < 300;
}

/** A short, value-free description of zod issues for a MalformedResponseError message. */
export function describeIssues(issues: readonly { readonly path: readonly PropertyKey[]; readonly message: string }[]): string {
  return issues
    .slice(0, 5)
    .map((issue) => `${issue.path.map(String).join('.') || '(body)'}: ${issue.message}`)
    .join('; ');
}

/**
 * The taxonomy error for the non-2xx statuses all vendors share: 401 AuthenticationError,
 * 403 PermissionDeniedError, 429 RateLimitedError (`Retry-After` in ms when sent), 408 and 5xx
 * InternalServerError; any other status a plain VendorApiError (final). Vendor-specific statuses
 * (OOTO engine 400, GLAIR 400/415) are decided by the clients before they fall back to this.
 */
export function statusError(vendor: Vendor, response: VendorResponse, transactionId: string | null): VendorApiError {
  const { status, headers, body } = response;
  const label = vendorLabel(vendor);
  const args = { vendor, status, headers: { ...headers }, body, transactionId };
  if (status === 401) {
    return new AuthenticationError({ ...args, message: `${label} refused the credentials (HTTP 401)` });
  }
  if (status === 403) {
    return new PermissionDeniedError({ ...args, message: `${label} denied access to this endpoint (HTTP 403)` });
  }
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(headers['retry-after']);
    const hint = retryAfterMs === undefined ? '' : `, retry after ${retryAfterMs} ms`;
    return new RateLimitedError({ ...args, retryAfterMs, message: `${label} rate limit exceeded (HTTP 429${hint})` });
  }
  if (status === 408 || status >= 500) {
    return new InternalServerError({ ...args, message: `${label} server error (HTTP ${status})` });
  }
  return new VendorApiError({ ...args, message: `${label} answered HTTP ${status}` });
}

// ---------------------------------------------------------------- quick retries

export interface CallRetryOptions {
  /** Delay before the first retry, ms; doubled each retry and randomised ×1–2. Default 200. */
  readonly minTimeoutMs?: number;
  /** Stops retrying (and waiting) when aborted; its reason is re-thrown as-is. */
  readonly signal?: AbortSignal | undefined;
}

/** Carries a thrown non-Error through p-retry (which would otherwise wrap it in a TypeError). */
class ThrownValue extends Error {
  constructor(readonly value: unknown) {
    super('non-error thrown');
  }
}

/**
 * Runs `fn`, retrying up to `retries` times (so at most `retries + 1` calls) while
 * {@link shouldRetry} (`in-call`) says the error is transient and the request never reached the
 * vendor: a call that may have been billed is never repeated here (later BullMQ attempts may, within
 * the line's call budget). Any other error surfaces at once, unchanged: callers always receive the
 * original taxonomy error, never a p-retry wrapper.
 */
export async function withCallRetries<T>(
  fn: (attempt: number) => Promise<T>,
  retries: number,
  options: CallRetryOptions = {},
): Promise<T> {
  try {
    return await pRetry(
      async (attempt) => {
        try {
          return await fn(attempt);
        } catch (error) {
          throw error instanceof Error ? error : new ThrownValue(error);
        }
      },
      {
        retries: Math.max(0, retries),
        minTimeout: options.minTimeoutMs ?? DEFAULT_RETRY_MIN_TIMEOUT_MS,
        factor: 2,
        randomize: true,
        shouldRetry: ({ error }) => shouldRetry(error, 'in-call'),
        signal: options.signal,
      },
    );
  } catch (error) {
    if (error instanceof ThrownValue) throw error.value;
    throw error;
  }
}
