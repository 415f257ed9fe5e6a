/**
 * What an HTTP status or an undici failure means, once, for every HTTP client of rescreen: the vendor
 * calls (vendors/status.ts, vendors/send.ts) and the media downloads (media/remote.ts) map these
 * classes to their own taxonomy errors. Decides by status, `instanceof` and `code`, never by message.
 */
import { errors as undiciErrors } from 'undici';

/**
 * The class of an HTTP status:
 * - `success`: 2xx;
 * - `unauthorized` 401, `forbidden` 403, `not-found` 404 and 410, `rate-limited` 429;
 * - `server`: 408 and 5xx (the server's "not now" or its own trouble: worth another try later);
 * - `client`: any other 4xx (final);
 * - `unexpected`: 1xx and 3xx that reached the caller (an unresolved redirect).
 */
export type HttpStatusClass = 'success' | 'unauthorized' | 'forbidden' | 'not-found' | 'rate-limited' | 'server' | 'client' | 'unexpected';

/** The class of `status` (see {@link HttpStatusClass}). */
export function httpStatusClass(status: number): HttpStatusClass {
  if (status >= 200 && status < 300) return 'success';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404 || status === 410) return 'not-found';
  if (status === 429) return 'rate-limited';
  if (status === 408 || status >= 500) return 'server';
  if (status >= 400) return 'client';
  return 'unexpected';
}

const SHARED_CLASSES: ReadonlySet<HttpStatusClass> = new Set(['unauthorized', 'forbidden', 'rate-limited', 'server']);

/**
 * True for the vendor statuses whose meaning is the status alone, the same at every vendor: 401, 403,
 * 429, 408 and 5xx (vendors/status.ts `statusError` maps them; their body is never needed to decide).
 */
export function isSharedErrorStatus(status: number): boolean {
  return SHARED_CLASSES.has(httpStatusClass(status));
}

/** `error.code` of an answer that is only an HTTP status, e.g. `HTTP_503`. */
export type HttpStatusCode = `HTTP_${number}`;

/** The {@link HttpStatusCode} of `status`. */
export function httpStatusCode(status: number): HttpStatusCode {
  return `HTTP_${status}`;
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);

/**
 * True when `error` itself (not its causes) is a timeout of the HTTP stack: undici's headers, body or
 * connect timeout, or a socket `ETIMEDOUT`.
 */
export function isTimeout(error: unknown): boolean {
  if (
    error instanceof undiciErrors.HeadersTimeoutError ||
    error instanceof undiciErrors.BodyTimeoutError ||
    error instanceof undiciErrors.ConnectTimeoutError
  ) {
    return true;
  }
  const code = errorCodeOf(error);
  return code !== undefined && TIMEOUT_CODES.has(code);
}

/** The string `code` of a thrown value (Node and undici errors carry one), if any. */
export function errorCodeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const { code } = error;
  return typeof code === 'string' ? code : undefined;
}
