/** The answers every vendor gives the same meaning (401/403/429/408/5xx) and the helpers the clients share to read answers. */
import {
  AuthenticationError,
  InternalServerError,
  PermissionDeniedError,
  RateLimitedError,
  VendorApiError,
} from '../errors/errors.js';
import { httpStatusClass } from '../errors/http-failure.js';
import { parseRetryAfter } from '../errors/retry-policy.js';
import type { VendorResponse } from './send.js';
import type { VendorIdentity } from './types.js';

/** True for a 2xx status. */
export function isSuccessStatus(status: number): boolean {
  return httpStatusClass(status) === 'success';
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
export function statusError(vendor: VendorIdentity, response: VendorResponse, transactionId: string | null): VendorApiError {
  const { status, headers, body } = response;
  const { label } = vendor;
  const args = { vendor: vendor.name, status, headers: { ...headers }, body, transactionId };
  switch (httpStatusClass(status)) {
    case 'unauthorized':
      return new AuthenticationError({ ...args, message: `${label} refused the credentials (HTTP 401)` });
    case 'forbidden':
      return new PermissionDeniedError({ ...args, message: `${label} denied access to this endpoint (HTTP 403)` });
    case 'rate-limited': {
      const retryAfterMs = parseRetryAfter(headers['retry-after']);
      const hint = retryAfterMs === undefined ? '' : `, retry after ${retryAfterMs} ms`;
      return new RateLimitedError({ ...args, retryAfterMs, message: `${label} rate limit exceeded (HTTP 429${hint})` });
    }
    case 'server':
      return new InternalServerError({ ...args, message: `${label} server error (HTTP ${status})` });
    case 'not-found':
    case 'client':
    case 'success':
    case 'unexpected':
      return new VendorApiError({ ...args, message: `${label} answered HTTP ${status}` });
  }
}
