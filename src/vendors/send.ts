/**
 * One vendor HTTP call: `send()` with an overall time limit that maps transport failures to the error
 * taxonomy. Nothing here keeps or reports request headers: they carry credentials.
 */
import { errors as undiciErrors, type Dispatcher, type FormData } from 'undici';
import { ConnectionError, TimeoutError } from '../errors/errors.js';
import { errorCodeOf as codeOf, isTimeout } from '../errors/http-failure.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../config/defaults.js';
import type { VendorIdentity } from './types.js';

/** Default time limit of one vendor HTTP call (headers and body), ms: the config's RESCREEN_REQUEST_TIMEOUT_MS default. */
export const DEFAULT_TIMEOUT_MS = DEFAULT_REQUEST_TIMEOUT_MS;
/** Longest text body kept on an error, characters. */
export const MAX_TEXT_BODY_CHARS = 2048;

export interface VendorRequest {
  /** The vendor's name (on errors) and label (in their messages). */
  readonly vendor: VendorIdentity;
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
        request.vendor.name,
        `${request.vendor.label} did not answer ${request.method} ${request.path} within ${request.timeoutMs} ms`,
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

/**
 * Connection failures before the request was written (refused, DNS, unreachable): nothing reached
 * the vendor, so a quick retry cannot be billed twice.
 */
const NOT_CONNECTED_CODES = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH', 'ENETDOWN', 'EADDRNOTAVAIL'];

const CONNECTION_CODES = new Set([
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  ...NOT_CONNECTED_CODES,
]);

/**
 * Codes of failures before the request was written: nothing reached the vendor, so a quick retry
 * cannot be billed twice. (A reset, a socket error or a headers/body timeout may come after the
 * vendor got the request: those are "possibly billed".)
 */
const NOT_SENT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', ...NOT_CONNECTED_CODES]);

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
  // Timeouts (undici's headers/body/connect, ETIMEDOUT): the one detection media downloads use too.
  if (isTimeout(error)) return 'timeout';
  if (error instanceof undiciErrors.SocketError) return 'connection';
  const code = codeOf(error);
  if (code !== undefined) {
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
  vendor: VendorIdentity,
  error: unknown,
  where: { readonly method: string; readonly path: string },
): TimeoutError | ConnectionError | undefined {
  const kind = classify(error);
  const code = codeOf(error);
  const detail = code === undefined ? '' : ` (${code})`;
  const requestSent = !beforeSend(error);
  switch (kind) {
    case 'timeout':
      return new TimeoutError(vendor.name, `${vendor.label} timed out on ${where.method} ${where.path}${detail}`, { cause: error, requestSent });
    case 'connection':
      return new ConnectionError(vendor.name, `${vendor.label} connection failed on ${where.method} ${where.path}${detail}`, {
        cause: error,
        requestSent,
      });
    case undefined:
      return undefined;
  }
}
