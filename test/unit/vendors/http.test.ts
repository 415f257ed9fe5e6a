import { errors as undiciErrors, Pool } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GLAIR } from '../../../src/vendors/glair/identity.js';
import { OOTO } from '../../../src/vendors/ooto/identity.js';
import {
  AuthenticationError,
  ConnectionError,
  InternalServerError,
  PermissionDeniedError,
  RateLimitedError,
  TimeoutError,
  VendorApiError,
  VendorRejectedError,
} from '../../../src/errors/errors.js';
import {
  MAX_TEXT_BODY_CHARS,
  createVendorDispatcher,
  joinPath,
  parseBaseUrl,
  parseBody,
  send,
  statusError,
  toTransportError,
  withCallRetries,
  type VendorResponse,
} from '../../../src/vendors/http.js';
import { dispositionOf } from '../../../src/errors/retry-policy.js';
import { createMockAgent, rejectionOf } from './helpers.js';
import type { MockAgent } from 'undici';

const where = { method: 'POST', path: '/x' };

function response(status: number, headers: Record<string, string> = {}, body: unknown = null): VendorResponse {
  return { status, headers, body };
}

describe('base URL and paths', () => {
  it('splits origin and path prefix', () => {
    expect(parseBaseUrl('https://cloud.ooto-ai.com')).toEqual({ origin: 'https://cloud.ooto-ai.com', basePath: '' });
    expect(parseBaseUrl('https://cloud.ooto-ai.com/')).toEqual({ origin: 'https://cloud.ooto-ai.com', basePath: '' });
    expect(parseBaseUrl('http://127.0.0.1:4010/ooto/')).toEqual({ origin: 'http://127.0.0.1:4010', basePath: '/ooto' });
    expect(() => parseBaseUrl('not a url')).toThrow(TypeError);
  });

  it('joins prefix, path and only the defined query values', () => {
    expect(joinPath('', '/api/v1.0/deepfake')).toBe('/api/v1.0/deepfake');
    expect(joinPath('/ooto', 'api/v1.0/deepfake')).toBe('/ooto/api/v1.0/deepfake');
    expect(joinPath('/ooto/', '/api/v1.0/identify', { check_liveness: 'true', check_deepfake: undefined })).toBe(
      '/ooto/api/v1.0/identify?check_liveness=true',
    );
    expect(joinPath('', '/api/v1.0/identify', { check_liveness: undefined })).toBe('/api/v1.0/identify');
  });
});

describe('parseBody', () => {
  it('parses JSON, keeps short text, truncates long text, null for empty', () => {
    expect(parseBody('{"a":1}')).toEqual({ a: 1 });
    expect(parseBody('<html>bad gateway</html>')).toBe('<html>bad gateway</html>');
    const long = parseBody('x'.repeat(10_000));
    expect(typeof long).toBe('string');
    expect((long as string).length).toBeLessThanOrEqual(MAX_TEXT_BODY_CHARS + 1);
    expect(parseBody('  ')).toBeNull();
  });
});

describe('statusError', () => {
  it('maps the shared statuses to the taxonomy', () => {
    expect(statusError(OOTO, response(401), 't1')).toBeInstanceOf(AuthenticationError);
    expect(statusError(OOTO, response(403), null)).toBeInstanceOf(PermissionDeniedError);
    expect(statusError(GLAIR, response(408), null)).toBeInstanceOf(InternalServerError);
    expect(statusError(GLAIR, response(500), null)).toBeInstanceOf(InternalServerError);
    expect(statusError(GLAIR, response(503), null)).toBeInstanceOf(InternalServerError);
    const other = statusError(GLAIR, response(404), null);
    expect(other).toBeInstanceOf(VendorApiError);
    expect(other).not.toBeInstanceOf(InternalServerError);
    expect(other.code).toBe('HTTP_404');
  });

  it('keeps status, headers, body and transaction id', () => {
    const error = statusError(OOTO, response(401, { 'x-a': 'b' }, { transactionId: 't1' }), 't1');
    expect(error).toMatchObject({ status: 401, headers: { 'x-a': 'b' }, body: { transactionId: 't1' }, transactionId: 't1', vendor: 'ooto' });
  });

  it('reads Retry-After on 429 as seconds or an HTTP date, undefined without it', () => {
    const seconds = statusError(OOTO, response(429, { 'retry-after': '7' }), null);
    expect(seconds).toBeInstanceOf(RateLimitedError);
    expect((seconds as RateLimitedError).retryAfterMs).toBe(7000);
    const date = new Date(Date.now() + 30_000).toUTCString();
    const dated = statusError(OOTO, response(429, { 'retry-after': date }), null) as RateLimitedError;
    expect(dated.retryAfterMs).toBeGreaterThan(20_000);
    expect(dated.retryAfterMs).toBeLessThanOrEqual(30_000);
    const none = statusError(GLAIR, response(429), null) as RateLimitedError;
    expect(none).toBeInstanceOf(RateLimitedError);
    expect(none.retryAfterMs).toBeUndefined();
  });
});

describe('toTransportError', () => {
  it('maps undici timeouts to TimeoutError', () => {
    expect(toTransportError(OOTO, new undiciErrors.HeadersTimeoutError(), where)).toBeInstanceOf(TimeoutError);
    expect(toTransportError(OOTO, new undiciErrors.BodyTimeoutError(), where)).toBeInstanceOf(TimeoutError);
    expect(toTransportError(OOTO, new undiciErrors.ConnectTimeoutError(), where)).toBeInstanceOf(TimeoutError);
  });

  it('maps socket and system errors to ConnectionError, by class or code', () => {
    expect(toTransportError(GLAIR, new undiciErrors.SocketError('other side closed'), where)).toBeInstanceOf(ConnectionError);
    for (const code of ['ECONNRESET', 'ECONNREFUSED', 'ENOTFOUND', 'EPIPE', 'UND_ERR_SOCKET', 'HPE_INVALID_CONSTANT']) {
      const error = Object.assign(new Error('boom'), { code });
      expect(toTransportError(GLAIR, error, where), code).toBeInstanceOf(ConnectionError);
    }
    const aggregate = new AggregateError([Object.assign(new Error('a'), { code: 'ECONNREFUSED' })], 'connect failed');
    expect(toTransportError(GLAIR, aggregate, where)).toBeInstanceOf(ConnectionError);
    const wrapped = new Error('outer', { cause: Object.assign(new Error('inner'), { code: 'ECONNRESET' }) });
    expect(toTransportError(GLAIR, wrapped, where)).toBeInstanceOf(ConnectionError);
  });

  it('does not classify by message, nor unknown errors', () => {
    expect(toTransportError(OOTO, new Error('ECONNRESET timeout socket'), where)).toBeUndefined();
    expect(toTransportError(OOTO, new undiciErrors.InvalidArgumentError('bad'), where)).toBeUndefined();
    expect(toTransportError(OOTO, 'string', where)).toBeUndefined();
  });

  it('keeps the original as cause', () => {
    const original = new undiciErrors.SocketError('closed');
    expect(toTransportError(OOTO, original, where)?.cause).toBe(original);
  });
});

describe('withCallRetries', () => {
  const ise = () => new InternalServerError({ vendor: 'ooto', status: 500, headers: {}, body: null, transactionId: null, message: 'HTTP 500' });
  /** A transient failure that provably never reached the vendor: the only kind retried inside a call. */
  const refused = () => new ConnectionError('ooto', 'connect ECONNREFUSED', { requestSent: false });

  it('retries transient errors that never reached the vendor and returns the eventual result', async () => {
    let calls = 0;
    const result = await withCallRetries(
      () => {
        calls += 1;
        return calls < 3 ? Promise.reject(refused()) : Promise.resolve('ok');
      },
      2,
      { minTimeoutMs: 1 },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
  });

  it('surfaces the last taxonomy error itself when retries are exhausted', async () => {
    let calls = 0;
    const last: ConnectionError[] = [];
    const error = await rejectionOf(
      withCallRetries(
        () => {
          calls += 1;
          const e = refused();
          last.push(e);
          return Promise.reject(e);
        },
        2,
        { minTimeoutMs: 1 },
      ),
    );
    expect(calls).toBe(3);
    expect(error).toBe(last[2]);
    expect((error as Error).name).not.toBe('AbortError');
  });

  it('never retries inside the call a failure that may have reached the vendor (5xx, reset, timeout)', async () => {
    const reset = () => new ConnectionError('ooto', 'reset before the status line');
    for (const make of [ise, () => new ConnectionError('ooto', 'reset mid-answer', { answerStarted: true }), () => new TimeoutError('ooto', 'slow'), reset]) {
      let calls = 0;
      const error = await rejectionOf(
        withCallRetries(
          () => {
            calls += 1;
            return Promise.reject(make());
          },
          3,
          { minTimeoutMs: 1 },
        ),
      );
      expect(calls).toBe(1);
      // A later BullMQ attempt may still try, within the line's budget; a reset before any answer is
      // the vendor's gateway: its breaker holds the vendor and the job goes back with nothing spent.
      expect(dispositionOf(error)).toBe(make === reset ? 'unavailable' : 'retry');
    }
  });

  it('tells a failure before sending (not billed) from one after', () => {
    const refusedError = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' });
    expect(toTransportError(OOTO, refusedError, where)).toMatchObject({ requestSent: false });
    expect(toTransportError(OOTO, new undiciErrors.ConnectTimeoutError('connect'), where)).toMatchObject({ requestSent: false });
    expect(toTransportError(OOTO, Object.assign(new Error('tls'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }), where)).toMatchObject({ requestSent: false });
    expect(toTransportError(OOTO, new undiciErrors.SocketError('other side closed'), where)).toMatchObject({ requestSent: true });
    expect(toTransportError(OOTO, new undiciErrors.HeadersTimeoutError('slow'), where)).toMatchObject({ requestSent: true });
    expect(toTransportError(OOTO, Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), where)).toMatchObject({ requestSent: true });
  });

  it('does not retry a final error and surfaces it unchanged', async () => {
    let calls = 0;
    const rejected = new VendorRejectedError({ vendor: 'ooto', status: 400, headers: {}, body: null, transactionId: 't', code: 5, message: 'no face' });
    const error = await rejectionOf(
      withCallRetries(
        () => {
          calls += 1;
          return Promise.reject(rejected);
        },
        5,
        { minTimeoutMs: 1 },
      ),
    );
    expect(calls).toBe(1);
    expect(error).toBe(rejected);
  });

  it('makes one call with zero retries, and re-throws non-Error values as-is', async () => {
    let calls = 0;
    const error = await rejectionOf(
      withCallRetries(() => {
        calls += 1;
        return Promise.reject(ise());
      }, 0),
    );
    expect(calls).toBe(1);
    expect(error).toBeInstanceOf(InternalServerError);
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
    expect(await rejectionOf(withCallRetries(() => Promise.reject('plain string'), 3))).toBe('plain string');
  });

  it('stops waiting when the caller aborts, with the caller reason', async () => {
    const controller = new AbortController();
    const reason = new Error('shutting down');
    const pending = withCallRetries(() => Promise.reject(refused()), 3, { minTimeoutMs: 10_000, signal: controller.signal });
    setTimeout(() => controller.abort(reason), 20);
    expect(await rejectionOf(pending)).toBe(reason);
  });
});

describe('send', () => {
  const origin = 'https://vendor.test';
  let agent: MockAgent;
  beforeEach(() => {
    agent = createMockAgent();
  });
  afterEach(async () => {
    await agent.close();
  });

  it('returns status, lower-cased headers and the parsed body', async () => {
    agent.get(origin).intercept({ path: '/p', method: 'POST' }).reply(418, '{"x":1}', { headers: { 'X-Thing': 'A', 'Request-Id': 'r1' } });
    const res = await send({ vendor: GLAIR, dispatcher: agent, origin, path: '/p', method: 'POST', headers: {}, timeoutMs: 1000 });
    expect(res).toEqual({ status: 418, headers: expect.objectContaining({ 'x-thing': 'A', 'request-id': 'r1' }), body: { x: 1 } });
  });

  it('turns its own time limit into TimeoutError', async () => {
    agent.get(origin).intercept({ path: '/slow', method: 'POST' }).reply(200, '{}').delay(500);
    const error = await rejectionOf(send({ vendor: OOTO, dispatcher: agent, origin, path: '/slow', method: 'POST', headers: {}, timeoutMs: 50 }));
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).code).toBe('VENDOR_TIMEOUT');
  });

  it('re-throws a caller abort as-is', async () => {
    agent.get(origin).intercept({ path: '/slow', method: 'POST' }).reply(200, '{}').delay(500);
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    setTimeout(() => controller.abort(reason), 20);
    const error = await rejectionOf(
      send({ vendor: OOTO, dispatcher: agent, origin, path: '/slow', method: 'POST', headers: {}, timeoutMs: 5000, signal: controller.signal }),
    );
    expect(error).toBe(reason);
  });

  it('maps a socket error to ConnectionError', async () => {
    agent.get(origin).intercept({ path: '/p', method: 'POST' }).replyWithError(new undiciErrors.SocketError('other side closed'));
    const error = await rejectionOf(send({ vendor: OOTO, dispatcher: agent, origin, path: '/p', method: 'POST', headers: {}, timeoutMs: 1000 }));
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).code).toBe('VENDOR_CONNECTION');
  });
});

describe('createVendorDispatcher', () => {
  it('creates a keep-alive Pool for the origin', async () => {
    const pool = createVendorDispatcher('http://127.0.0.1:4010/ooto', { connections: 2 });
    expect(pool).toBeInstanceOf(Pool);
    await pool.close();
    expect(pool.closed).toBe(true);
  });
});
