/**
 * Shared HTTP machinery of the vendor clients: one keep-alive undici Pool per vendor origin, one
 * `send()` with an overall time limit and a cap on the answer (RESCREEN_MAX_ANSWER_BYTES) that maps
 * transport failures to the error taxonomy, one status mapping for the answers every vendor shares
 * (401/403/429/408/5xx), and the quick in-call retries.
 * No function here keeps or reports request headers: they carry credentials.
 */

// The machinery lives in endpoint.ts, send.ts, status.ts and call-retries.ts; every name stays
// importable from here.
export { DEFAULT_CALL_RETRIES, DEFAULT_RETRY_MIN_TIMEOUT_MS, withCallRetries, type CallRetryOptions } from './call-retries.js';
export {
  createVendorDispatcher,
  joinPath,
  parseBaseUrl,
  type VendorDispatcherOptions,
  type VendorEndpoint,
} from './endpoint.js';
export { DEFAULT_MAX_ANSWER_BYTES, DEFAULT_TIMEOUT_MS, MAX_TEXT_BODY_CHARS, parseBody, send, toTransportError, type VendorRequest, type VendorResponse } from './send.js';
export { describeIssues, isSuccessStatus, statusError } from './status.js';
export { isSharedErrorStatus } from '../errors/http-failure.js';
