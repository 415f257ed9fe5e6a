/** The quick in-call retries of a vendor call (p-retry), only of failures before the request was sent. */
import pRetry from 'p-retry';
import { DEFAULT_RETRY_MIN_TIMEOUT_MS } from '../config/defaults.js';
import { shouldRetry } from '../errors/retry-policy.js';

// The defaults (RESCREEN_CALL_RETRIES and the first delay) live with every other default.
export { DEFAULT_CALL_RETRIES, DEFAULT_RETRY_MIN_TIMEOUT_MS } from '../config/defaults.js';

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
