/**
 * What each error code means, in one line a reader of the dashboard or the CLI can act on (the
 * README's result-record table says the same at more length). The map is typed over every
 * {@link LocalErrorCode}: a code added to the taxonomy without a meaning does not compile.
 * Vendor engine codes are the vendor's own (their definitions give their meanings); `HTTP_<status>`
 * is read from its number.
 */
import type { LocalErrorCode } from './errors.js';

export const CODE_MEANINGS: Readonly<Record<LocalErrorCode, string>> = {
  INVALID_LINE: 'the manifest line cannot be run (bad JSON, a missing field, an unknown check)',
  MEDIA_EMPTY: 'the media file is empty (or a frame list has no frame): no vendor call',
  MEDIA_UNSUPPORTED_TYPE: 'the bytes are not a type the check takes (JPEG/PNG photo, mp4 video): no vendor call',
  MEDIA_TOO_LARGE: 'the media is over the size cap (RESCREEN_PHOTO_MAX_BYTES, the vendor body cap): no vendor call',
  MEDIA_NOT_FOUND: 'the media ref does not resolve (missing file, HTTP 404/410, no such object key)',
  MEDIA_UNREADABLE: 'the media ref cannot be read (a folder, no permission, another 4xx, a refused or malformed ref)',
  MEDIA_FETCH: 'downloading the media kept failing (network, timeout, HTTP 5xx/408/429)',
  MEDIA_ACCESS_DENIED: 'the object store refused the media (AccessDenied, HTTP 403): final, no vendor call',
  MEDIA_HOST_REFUSED: 'the media URL (or a redirect) points at an internal host (loopback, private, link-local, metadata) or a bucket not allowed',
  MEDIA_CHANGED: 'the media the ref gives now is not the media screened: its sha256 differs from the record’s',
  CALL_BUDGET_EXHAUSTED: 'the line made RESCREEN_MAX_CALLS_PER_LINE vendor calls with no known cause for the last failure',
  WORKER_LOST: 'the workers died mid-job more often than RESCREEN_MAX_STALLED allows',
  VENDOR_CONNECTION: 'no answer from the vendor: connection refused, reset, DNS or TLS failure',
  VENDOR_TIMEOUT: 'no answer from the vendor in time (the call may have been billed)',
  VENDOR_MALFORMED_RESPONSE: 'the vendor answered in a shape rescreen cannot read',
  VENDOR_ANSWER_TOO_LARGE: 'the vendor’s answer was over RESCREEN_MAX_ANSWER_BYTES and abandoned (counted as paid)',
  QUOTA_WAIT: 'waiting for a vendor quota slot or circuit breaker (internal, never stored)',
  BATCH_HELD: 'the batch is paused or at its call/spend cap (internal, never stored)',
  CANCELLED: 'the batch was cancelled before this line was sent; rescreen retry sends it',
  INTERNAL: 'an unexpected error (see the worker’s log)',
  INVALID_BATCH_ID: 'not a valid batch id',
  MANIFEST_UNREADABLE: 'the manifest cannot be read at all',
  INVALID_SCHEDULE: 'a schedule option was refused',
  WEBHOOK_UNREACHABLE: 'the webhook endpoint did not answer',
  CONFIG_INVALID: 'an environment variable has a value the configuration refuses',
  REDIS_UNAVAILABLE: 'no Redis could be reached or started',
  STORE_UNAVAILABLE: 'the PostgreSQL store did not answer or could not be migrated',
  MANIFEST_CHANGED: 'the batch’s manifest changed since it was enqueued',
  PREFIX_NOT_CLUSTER_SAFE: 'RESCREEN_PREFIX would spread keys over several Redis Cluster slots',
  INVALID_INPUT: 'input the command or route cannot use',
  NOT_FOUND: 'no such batch, record, schedule or review case',
  CONFLICT: 'another reviewer holds a live claim on this case',
  WAIT_TIMEOUT: 'a wait for a batch ran out of time',
  UNAUTHORIZED: 'no bearer token, or not a configured one',
  FORBIDDEN: 'this token may not do that (read-only or reviewer token, or a path outside the manifest root)',
  PAYLOAD_TOO_LARGE: 'the request body is over RESCREEN_API_BODY_LIMIT',
};

const HTTP_WORDS: Readonly<Record<number, string>> = {
  400: 'the vendor refused the request as malformed',
  401: 'the vendor refused the credentials',
  403: 'the vendor account may not use this endpoint',
  404: 'the vendor endpoint was not found',
  408: 'the vendor timed out the request',
  413: 'the vendor refused the body as too large',
  415: 'the vendor refused the media type',
  429: 'the vendor refused the call as over quota',
};

/**
 * The meaning of a code as a record or an answer carries it: a local code, `HTTP_<status>`, or one of
 * `vendorCodes` (a vendor's engine codes, keyed by their text). Null for a code nobody explained.
 */
export function meaningOf(code: string | number, vendorCodes: Readonly<Record<string, string>> = {}): string | null {
  const text = String(code);
  if (Object.hasOwn(CODE_MEANINGS, text)) return CODE_MEANINGS[text as LocalErrorCode];
  if (Object.hasOwn(vendorCodes, text)) return vendorCodes[text] ?? null;
  const http = /^HTTP_(\d{3})$/.exec(text);
  if (http) {
    const status = Number(http[1]);
    const words = HTTP_WORDS[status] ?? (status >= 500 ? 'the vendor had a server error, still failing after retries' : 'the vendor answered only this HTTP status');
    return `${words} (HTTP ${status})`;
  }
  return null;
}
