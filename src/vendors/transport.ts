/**
 * What every vendor client shares: a base URL (with an optional path prefix), a keep-alive dispatcher
 * it owns unless one is given, a per-call time limit, and quick in-call retries of transient failures.
 * The clients add only their vendor's auth headers, bodies and answer parsing.
 */
import type { Dispatcher, FormData } from 'undici';
import { DEFAULT_CALL_RETRIES, withCallRetries } from './call-retries.js';
import { createVendorDispatcher, joinPath, parseBaseUrl } from './endpoint.js';
import { DEFAULT_TIMEOUT_MS, send, type VendorResponse } from './send.js';
import { parseRetryAfter } from '../errors/retry-policy.js';
import { AnswerTooLargeError, ConnectionError, TimeoutError } from '../errors/errors.js';
import { currentCallHooks, currentCheck, statusClassOf, type CallObserver, type StatusClass } from './observer.js';
import type { CallGate, VendorIdentity } from './types.js';

/** Options every vendor client takes. */
export interface TransportOptions {
  /**
   * Base URL, e.g. `https://cloud.ooto-ai.com` (config default) or a simulator with a path prefix such
   * as `http://127.0.0.1:4010/ooto`; endpoint paths are appended to it.
   */
  readonly baseUrl: string;
  /**
   * undici dispatcher to send through (e.g. a MockAgent in tests). Default: a keep-alive Pool to the
   * base URL's origin, owned by the client and closed by `close()`; a given dispatcher is left open.
   */
  readonly dispatcher?: Dispatcher | undefined;
  /** Time limit of one HTTP call (headers and body), ms. Default 60000. */
  readonly timeoutMs?: number | undefined;
  /** Most bytes of an answer's body read; a longer answer throws AnswerTooLargeError (see `send`). Default 1 MiB. */
  readonly maxAnswerBytes?: number | undefined;
  /** Quick in-call retries of failures before the request was sent (refused, DNS, connect timeout, TLS). Default 2. */
  readonly callRetries?: number | undefined;
  /** Delay before the first quick retry, ms; doubles per retry, randomised ×1–2. Default 200. */
  readonly retryMinTimeoutMs?: number | undefined;
  /** Sockets of the default Pool. Default 16. Ignored when `dispatcher` is given. */
  readonly connections?: number | undefined;
  /** Every call, quick retries included, passes it: a permit before sending, its answer after. */
  readonly gate?: CallGate | undefined;
  /** Told every call's outcome and duration (metrics). */
  readonly observer?: CallObserver | undefined;
}

export interface PostRequest {
  readonly path: string;
  readonly query?: Readonly<Record<string, string | undefined>>;
  readonly headers: Readonly<Record<string, string>>;
  /** Called once per try: a FormData body cannot be sent twice. */
  readonly body: () => Buffer | FormData;
  readonly signal?: AbortSignal | undefined;
}

export interface VendorTransport {
  /** POSTs with quick retries; `interpret` turns each answer into a result or a taxonomy error. */
  post<T>(request: PostRequest, interpret: (response: VendorResponse, fullPath: string) => T): Promise<T>;
  close(): Promise<void>;
}

/** `vendor`: its name (errors, hooks, metrics) and label (messages). Throws TypeError when `baseUrl` is not a URL. */
export function createTransport(vendor: VendorIdentity, options: TransportOptions): VendorTransport {
  const endpoint = parseBaseUrl(options.baseUrl);
  const ownsDispatcher = options.dispatcher === undefined;
  const dispatcher =
    options.dispatcher ??
    createVendorDispatcher(options.baseUrl, options.connections === undefined ? {} : { connections: options.connections });
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const callRetries = options.callRetries ?? DEFAULT_CALL_RETRIES;
  return {
    async post(request, interpret) {
      const fullPath = joinPath(endpoint.basePath, request.path, request.query);
      const paid = currentCallHooks()?.open(vendor.name);
      const call = withCallRetries(
        async () => {
          // Build the body first: the permit's slot is when the call leaves, so nothing slow goes after it.
          const body = request.body();
          const permit = await options.gate?.admit(request.signal);
          // The job's word at the moment the call leaves (its batch paused, cancelled, at a cap; the
          // line's budget): a call it refuses is not sent, and its permit goes back to the fleet.
          await paid?.beforeSend().catch(async (error: unknown) => {
            // Best effort: a permit not given back only leaves one slot unused.
            await permit?.release().catch(() => undefined);
            throw error;
          });
          const started = performance.now();
          const observe = (statusClass: StatusClass, rateLimited = false) =>
            options.observer?.vendorCall({ vendor: vendor.name, check: currentCheck(), statusClass, rateLimited, seconds: (performance.now() - started) / 1000 });
          let response: VendorResponse;
          try {
            response = await send({
              vendor,
              dispatcher,
              origin: endpoint.origin,
              path: fullPath,
              method: 'POST',
              headers: request.headers,
              body,
              timeoutMs,
              signal: request.signal,
              maxAnswerBytes: options.maxAnswerBytes,
            });
          } catch (error) {
            if (error instanceof TimeoutError) observe('timeout');
            else if (error instanceof ConnectionError) observe('connection');
            else if (error instanceof AnswerTooLargeError) observe(statusClassOf(error.status));
            await options.gate?.unanswered?.(error, permit);
            throw error;
          }
          observe(statusClassOf(response.status), response.status === 429);
          const retryAfterMs = response.status === 429 ? parseRetryAfter(response.headers['retry-after']) : undefined;
          await options.gate?.answered(response.status, retryAfterMs, performance.now() - started, permit);
          return interpret(response, fullPath);
        },
        callRetries,
        { signal: request.signal, ...(options.retryMinTimeoutMs === undefined ? {} : { minTimeoutMs: options.retryMinTimeoutMs }) },
      );
      if (paid === undefined) return call;
      try {
        return await call;
      } catch (error) {
        await paid.failed(error);
        throw error;
      }
    },
    async close() {
      if (ownsDispatcher) await dispatcher.close();
    },
  };
}
