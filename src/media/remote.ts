/**
 * http(s) media downloads, bounded: refused on their Content-Length and aborted as soon as they pass
 * the cap; every redirect is checked against the host policy.
 */
import { Agent, interceptors, request, type Dispatcher } from 'undici';
import { ErrorCodes, MediaFetchError, MediaUnavailableError, RescreenError } from '../errors/errors.js';
import { httpStatusClass, isTimeout } from '../errors/http-failure.js';
import { guardedInterceptorLookup, guardedLookup, HostRefusedError, refuseLiteral, type MediaHostPolicy } from './host-policy.js';
import type { TooLarge } from './limits.js';
import type { Source } from './refs.js';

/** Redirects followed per download (signed-URL CDNs and bucket aliases redirect), each one checked against the host policy. */
export const MAX_REDIRECTIONS = 3;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** What a download needs from the loader's options. */
export interface RemoteReader {
  readonly fetchTimeoutMs: number;
  readonly dispatcher: Dispatcher;
  readonly hostPolicy: MediaHostPolicy;
}

/** Why the deadline controller aborted (to tell a timeout from the caller's abort). */
class FetchDeadline extends Error {
  override name = 'FetchDeadline';
}

/**
 * Downloads at most `cap` bytes of an http(s) source; throws `tooLarge(…)` as soon as it is known to
 * hold more (see createMediaLoader in loader.ts for the errors).
 */
export async function fetchRemote(
  reader: RemoteReader,
  source: Extract<Source, { kind: 'http' }>,
  cap: number,
  signal: AbortSignal | undefined,
  tooLarge: TooLarge,
): Promise<Buffer> {
  const { display, scrub } = source;
  const timeoutMs = reader.fetchTimeoutMs;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new FetchDeadline(`no complete answer within ${timeoutMs} ms`)), timeoutMs);
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    let url = source.url;
    let response: Dispatcher.ResponseData;
    for (let hop = 0; ; hop += 1) {
      const refused = refuseLiteral(reader.hostPolicy, url.hostname);
      if (refused) throw hostRefused(display, hop, refused);
      response = await request(url, {
        method: 'GET',
        dispatcher: reader.dispatcher,
        signal: controller.signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        headers: { accept: 'image/jpeg, image/png, video/mp4;q=0.9, */*;q=0.1', 'user-agent': 'rescreen' },
      });
      const location = response.headers.location;
      if (!REDIRECT_STATUSES.has(response.statusCode) || typeof location !== 'string' || location === '') break;
      discard(response.body);
      if (hop >= MAX_REDIRECTIONS) {
        throw new MediaUnavailableError(ErrorCodes.MEDIA_UNREADABLE, `${display}: more than ${MAX_REDIRECTIONS} redirects`);
      }
      try {
        url = new URL(location, url);
      } catch (cause) {
        throw new MediaUnavailableError(ErrorCodes.MEDIA_UNREADABLE, `${display}: redirected to an invalid URL`, { cause });
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new MediaUnavailableError(ErrorCodes.MEDIA_UNREADABLE, `${display}: redirected to an unsupported scheme ${url.protocol}`);
      }
    }
    const { statusCode, body } = response;
    if (httpStatusClass(statusCode) !== 'success') {
      discard(body);
      throw statusError(statusCode, display);
    }
    const declared = contentLength(response.headers['content-length']);
    if (declared !== undefined && declared > cap) {
      discard(body);
      throw tooLarge(declared);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      total += chunk.byteLength;
      if (total > cap) {
        // Stop the download now: destroying the body aborts the request and closes the connection.
        discard(body);
        throw tooLarge(declared);
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks, total);
  } catch (err) {
    if (err instanceof RescreenError) throw err;
    if (signal?.aborted) throw signal.reason;
    const refused = findHostRefused(err);
    if (refused) throw hostRefused(display, undefined, refused);
    if (controller.signal.reason instanceof FetchDeadline || isTimeout(err)) {
      throw new MediaFetchError(ErrorCodes.MEDIA_FETCH, `${display}: download timed out (no complete answer within ${timeoutMs} ms)`, {
        cause: err,
      });
    }
    const detail = err instanceof Error ? scrub(describeNetworkError(err)) : 'unknown error';
    throw new MediaFetchError(ErrorCodes.MEDIA_FETCH, `${display}: download failed (${detail})`, { cause: err });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/** MEDIA_HOST_REFUSED: final (`failed`), and no vendor call is made for the line. */
export function hostRefused(display: string, hop: number | undefined, refused: HostRefusedError): MediaUnavailableError {
  const where = hop === undefined || hop === 0 ? '' : ` (after ${hop} ${hop === 1 ? 'redirect' : 'redirects'})`;
  return new MediaUnavailableError(
    ErrorCodes.MEDIA_HOST_REFUSED,
    `${display}: refused to download${where}: ${refused.message} (allow it with RESCREEN_MEDIA_ALLOW_HOSTS or RESCREEN_MEDIA_ALLOW_PRIVATE=true)`,
    { cause: refused },
  );
}

/** The HostRefusedError our connect-time lookup raised, wherever undici wrapped it. */
export function findHostRefused(err: unknown, depth = 0): HostRefusedError | undefined {
  if (depth > 4 || typeof err !== 'object' || err === null) return undefined;
  if (err instanceof HostRefusedError) return err;
  if (err instanceof AggregateError) {
    for (const inner of err.errors) {
      const found = findHostRefused(inner, depth + 1);
      if (found) return found;
    }
  }
  return err instanceof Error ? findHostRefused(err.cause, depth + 1) : undefined;
}

/**
 * Drops a response body we will not read: destroying it aborts the request and closes the connection.
 * undici then emits a RequestAbortedError on the body, expected here, so it gets a listener.
 */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => undefined);
  body.destroy();
}

/** The error of a non-2xx answer to a download, by the status classes vendor calls share (errors/http-failure.ts). */
function statusError(status: number, display: string): RescreenError {
  switch (httpStatusClass(status)) {
    case 'not-found':
      return new MediaUnavailableError(ErrorCodes.MEDIA_NOT_FOUND, `${display}: not found (HTTP ${status})`);
    // 408 and 429 are the server's "not now", 5xx its own trouble: worth another try later.
    case 'rate-limited':
    case 'server':
      return new MediaFetchError(ErrorCodes.MEDIA_FETCH, `${display}: download failed (HTTP ${status})`);
    case 'unauthorized':
    case 'forbidden':
    case 'client':
      return new MediaUnavailableError(ErrorCodes.MEDIA_UNREADABLE, `${display}: refused (HTTP ${status})`);
    case 'success':
    case 'unexpected':
      // 1xx/3xx that undici did not resolve: a redirect loop, too many redirects, or one without Location.
      return new MediaUnavailableError(ErrorCodes.MEDIA_UNREADABLE, `${display}: unexpected HTTP ${status} (unresolved redirect?)`);
  }
}

function contentLength(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && /^\s*\d+\s*$/.test(value) ? Number(value) : undefined;
}

/** `connect ECONNREFUSED 127.0.0.1:9` rather than undici's bare "fetch failed"-style wrappers. */
function describeNetworkError(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  const message = err.message.trim() === '' ? err.name : err.message;
  return code !== undefined && !message.includes(code) ? `${code}: ${message}` : message;
}

/**
 * `dispatcher` (a caller's own: a proxy agent, a mock) made to honour the host policy: the DNS
 * interceptor resolves each name through the policy and sends the request to an address it allowed,
 * whatever the dispatcher's own `connect` does. With `allowPrivate` it is returned as it is.
 */
export function guardedDispatcher(dispatcher: Dispatcher, policy: MediaHostPolicy): Dispatcher {
  if (policy.allowPrivate) return dispatcher;
  return dispatcher.compose(interceptors.dns({ lookup: guardedInterceptorLookup(policy) }));
}

const shared = new Map<string, Dispatcher>();

/**
 * One keep-alive Agent per host policy for all loaders of the process, created on first use. Its
 * `connect` lookup checks every address a name resolves to against the policy.
 */
export function sharedDispatcher(policy: MediaHostPolicy): Dispatcher {
  const key = JSON.stringify(policy);
  let agent = shared.get(key);
  if (agent === undefined) {
    agent = new Agent({
      keepAliveTimeout: 10_000,
      keepAliveMaxTimeout: 60_000,
      ...(policy.allowPrivate ? {} : { connect: { lookup: guardedLookup(policy) } }),
    });
    shared.set(key, agent);
  }
  return agent;
}

