/**
 * One vendor HTTP call: `send()` with an overall time limit and a cap on the answer's size, mapping
 * transport failures to the error taxonomy. Nothing here keeps or reports request headers: they carry
 * credentials.
 */
import { errors as undiciErrors, type Dispatcher, type FormData } from 'undici';
import { AnswerTooLargeError, ConnectionError, TimeoutError } from '../errors/errors.js';
import { errorCodeOf as codeOf, isSharedErrorStatus, isTimeout } from '../errors/http-failure.js';
import { DEFAULT_MAX_ANSWER_BYTES, DEFAULT_REQUEST_TIMEOUT_MS } from '../config/defaults.js';
import type { VendorIdentity } from './types.js';

/** Default time limit of one vendor HTTP call (headers and body), ms: the config's RESCREEN_REQUEST_TIMEOUT_MS default. */
export const DEFAULT_TIMEOUT_MS = DEFAULT_REQUEST_TIMEOUT_MS;
/** Longest text body kept on an error, characters. */
export const MAX_TEXT_BODY_CHARS = 2048;
/** Default cap of one vendor answer's body, bytes: the config's RESCREEN_MAX_ANSWER_BYTES default (1 MiB). */
export { DEFAULT_MAX_ANSWER_BYTES };

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
  /** Most bytes of the answer's body read; a longer one is abandoned at the cap. Default {@link DEFAULT_MAX_ANSWER_BYTES}. */
  readonly maxAnswerBytes?: number | undefined;
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
 * Sends one request and reads its answer, at most `maxAnswerBytes` of it. Any HTTP status resolves;
 * only transport failures throw: TimeoutError (our limit, undici headers/body/connect timeouts),
 * ConnectionError (socket, refused, reset, DNS, TLS), the caller's abort reason as-is, anything
 * unrecognised as-is — and an answer over the cap: AnswerTooLargeError, except for the statuses whose
 * meaning is the status alone (401/403/429/408/5xx), which resolve with the body replaced by a note.
 */
export async function send(request: VendorRequest): Promise<VendorResponse> {
  const timeoutSignal = AbortSignal.timeout(request.timeoutMs);
  const signal = request.signal ? AbortSignal.any([request.signal, timeoutSignal]) : timeoutSignal;
  // Whether the status and headers came before a failure: a reset before them is the vendor's gateway.
  let answerStarted = false;
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
    answerStarted = true;
    const headers = lowerCaseHeaders(response.headers);
    const maxBytes = request.maxAnswerBytes ?? DEFAULT_MAX_ANSWER_BYTES;
    const text = await readCapped(response.body, maxBytes, contentLength(headers['content-length']));
    if (text !== undefined) return { status: response.statusCode, headers, body: parseBody(text) };
    // A 503 or a 429 means the same with any body: keep the status (backoff, the fleet's 429 pause).
    if (isSharedErrorStatus(response.statusCode)) return { status: response.statusCode, headers, body: `[answer over ${maxBytes} bytes: not read]` };
    throw new AnswerTooLargeError({
      vendor: request.vendor.name,
      status: response.statusCode,
      headers,
      maxBytes,
      message: `${request.vendor.label} answered ${request.method} ${request.path} with HTTP ${response.statusCode} and more than ${maxBytes} bytes: not read past RESCREEN_MAX_ANSWER_BYTES=${maxBytes}`,
    });
  } catch (error) {
    if (error instanceof AnswerTooLargeError) throw error;
    if (request.signal?.aborted) throw error;
    if (timeoutSignal.aborted) {
      throw new TimeoutError(
        request.vendor.name,
        `${request.vendor.label} did not answer ${request.method} ${request.path} within ${request.timeoutMs} ms`,
        { cause: error },
      );
    }
    throw toTransportError(request.vendor, error, { ...request, answerStarted }) ?? error;
  }
}

/**
 * The body as text when it holds at most `maxBytes` bytes; `undefined` as soon as it is known to hold
 * more — by its Content-Length before any byte is read, or by counting while it streams (chunked) —
 * and then the body is destroyed, which aborts the request and closes the connection: the rest is
 * never downloaded, and never more than `maxBytes` of it is held.
 */
async function readCapped(body: Dispatcher.ResponseData['body'], maxBytes: number, declared: number | undefined): Promise<string | undefined> {
  if (declared !== undefined && declared > maxBytes) return discard(body);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    total += chunk.byteLength;
    if (total > maxBytes) return discard(body);
    chunks.push(chunk);
  }
  const bytes = Buffer.concat(chunks, total);
  // Skip a UTF-8 byte order mark, as undici's own `text()` does.
  const start = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  return bytes.toString('utf8', start);
}

/** Destroys a body we will not read (undici then emits an expected RequestAbortedError on it). */
function discard(body: Dispatcher.ResponseData['body']): undefined {
  body.on('error', () => undefined);
  body.destroy();
  return undefined;
}

function contentLength(value: string | undefined): number | undefined {
  return value !== undefined && /^\s*\d+\s*$/.test(value) ? Number(value) : undefined;
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
  where: { readonly method: string; readonly path: string; readonly answerStarted?: boolean },
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
        answerStarted: where.answerStarted === true,
      });
    case undefined:
      return undefined;
  }
}
