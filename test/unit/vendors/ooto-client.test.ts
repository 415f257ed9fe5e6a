import { errors as undiciErrors, type MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  ConnectionError,
  InternalServerError,
  MalformedResponseError,
  PermissionDeniedError,
  RateLimitedError,
  TimeoutError,
  VendorApiError,
  VendorRejectedError,
} from '../../../src/errors/errors.js';
import { dispositionOf } from '../../../src/errors/retry-policy.js';
import { createOotoClient, type OotoClientOptions } from '../../../src/vendors/ooto/client.js';
import type { OotoClient } from '../../../src/vendors/types.js';
import {
  createMockAgent,
  expectNoSecrets,
  filePart,
  JSON_HEADERS,
  serveReplies,
  type Reply,
  multipartOf,
  photo,
  pngPhoto,
  rejectionOf,
  type CapturedRequest,
} from './helpers.js';
import { OOTO_DEEPFAKE_200, OOTO_DEEPFAKE_400, OOTO_IDENTIFY_200, OOTO_IDENTIFY_400 } from '../../fixtures/vendor-samples.js';

const ORIGIN = 'https://cloud.ooto-ai.com';
const APP_ID = 'app-id-7f3a9c';
const APP_KEY = 'app-key-SECRET-41d2e8';

let agent: MockAgent;
let requests: CapturedRequest[];

beforeEach(() => {
  agent = createMockAgent();
  requests = [];
});
afterEach(async () => {
  await agent.close();
});

function client(overrides: Partial<OotoClientOptions> = {}): OotoClient {
  return createOotoClient({
    baseUrl: ORIGIN,
    appId: APP_ID,
    appKey: APP_KEY,
    dispatcher: agent,
    timeoutMs: 2000,
    callRetries: 2,
    retryMinTimeoutMs: 1,
    ...overrides,
  });
}

/** Intercepts POSTs to any path of `origin`, answering `replies` in order (the last one repeats). */
function serve(replies: Reply[], origin = ORIGIN): void {
  serveReplies(agent, requests, replies, origin);
}

describe('OOTO deepfake', () => {
  it('posts the photo as multipart `photo` with APP-ID / APP-KEY and reads the seed 200', async () => {
    serve([{ status: 200, body: OOTO_DEEPFAKE_200 }]);
    const answer = await client().deepfake(photo);

    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe('/api/v1.0/deepfake');
    expect(request!.headers['app-id']).toBe(APP_ID);
    expect(request!.headers['app-key']).toBe(APP_KEY);
    const form = await multipartOf(request!);
    expect([...form.keys()]).toEqual(['photo']);
    const part = await filePart(form, 'photo');
    expect(part).toEqual({ name: 'selfie.jpg', type: 'image/jpeg', bytes: photo.bytes });

    expect(answer.transactionId).toBe('2f679199-aafe-4b05-a722-728615b6aca2');
    expect(answer.status).toBe(200);
    expect(answer.result).toEqual({ score: 0.9491408169269562, fine: true });
    expect(answer.body).toEqual(JSON.parse(OOTO_DEEPFAKE_200));
  });

  it('sends a PNG with its own type', async () => {
    serve([{ status: 200, body: OOTO_DEEPFAKE_200 }]);
    await client().deepfake(pngPhoto);
    const part = await filePart(await multipartOf(requests[0]!), 'photo');
    expect(part.type).toBe('image/png');
    expect(part.name).toBe('frame.png');
  });

  it('turns the seed 400 (engine code 5) into VendorRejectedError with the numeric code and transaction id', async () => {
    serve([{ status: 400, body: OOTO_DEEPFAKE_400 }]);
    const error = await rejectionOf(client().deepfake(photo));
    expect(error).toBeInstanceOf(VendorRejectedError);
    expect(error).toMatchObject({
      vendor: 'ooto',
      status: 400,
      code: 5,
      message: 'can not detect face',
      transactionId: 'efb66e50-4c87-493d-b026-543dacdbe314',
      body: JSON.parse(OOTO_DEEPFAKE_400),
    });
    expect(dispositionOf(error)).toBe('rejected');
    expect(requests).toHaveLength(1);
  });

  it('turns a 400 without an engine code into a final VendorApiError', async () => {
    serve([{ status: 400, body: '{"transactionId":"t-400","message":"bad request"}' }]);
    const error = await rejectionOf(client().deepfake(photo));
    expect(error).toBeInstanceOf(VendorApiError);
    expect(error).not.toBeInstanceOf(VendorRejectedError);
    expect(error).toMatchObject({ status: 400, code: 'HTTP_400', transactionId: 't-400' });
    expect(dispositionOf(error)).toBe('failed');
    expect(requests).toHaveLength(1);
  });

  it('treats an engine error on a 200 as rejected too', async () => {
    serve([{ status: 200, body: '{"transactionId":"t-9","result":{"status":"error","code":9,"info":"too small"}}' }]);
    const error = await rejectionOf(client().deepfake(photo));
    expect(error).toBeInstanceOf(VendorRejectedError);
    expect(error).toMatchObject({ code: 9, message: 'too small', transactionId: 't-9', status: 200 });
  });

  it('tolerates extra fields, missing optional parts and differently-cased quality keys', async () => {
    const body = {
      transactionId: 'tol-1',
      extra: { anything: [1, 2, 3] },
      result: {
        deepfake: { score: 0.12, fine: false, model: 'v9' },
        quality: { left_eye_closed: { score: 0.1, fine: true }, RightEyeClosed: { score: 0.2, fine: true } },
      },
    };
    serve([{ status: 200, body: JSON.stringify(body) }]);
    const answer = await client().deepfake(photo);
    expect(answer.result).toEqual({ score: 0.12, fine: false });
    expect(answer.body).toEqual(body);

    requests = [];
    await agent.close();
    agent = createMockAgent();
    serve([{ status: 200, body: '{"transactionId":"tol-2","result":{"deepfake":{"score":0.95,"fine":true}}}' }]);
    const minimal = await client().deepfake(photo);
    expect(minimal).toMatchObject({ transactionId: 'tol-2', result: { score: 0.95, fine: true } });
  });

  it('turns an unreadable 200 into MalformedResponseError with status, body and transaction id', async () => {
    serve([{ status: 200, body: '{"transactionId":"t-m","result":{"deepfake":{"score":"high"}}}' }]);
    const error = await rejectionOf(client().deepfake(photo));
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error).toMatchObject({ status: 200, transactionId: 't-m', body: { transactionId: 't-m', result: { deepfake: { score: 'high' } } } });
    expect(dispositionOf(error)).toBe('failed');

    await agent.close();
    agent = createMockAgent();
    requests = [];
    serve([{ status: 200, body: '<html>gateway</html>', headers: { 'content-type': 'text/html' } }]);
    const text = await rejectionOf(client().deepfake(photo));
    expect(text).toBeInstanceOf(MalformedResponseError);
    expect(text).toMatchObject({ body: '<html>gateway</html>', transactionId: null });
  });
});

describe('OOTO identify', () => {
  it('reads the seed 200 and sends no query flags unless asked', async () => {
    serve([{ status: 200, body: OOTO_IDENTIFY_200 }]);
    const answer = await client().identify(photo, {});
    expect(requests[0]!.path).toBe('/api/v1.0/identify');
    expect(requests[0]!.headers['app-id']).toBe(APP_ID);
    expect([...(await multipartOf(requests[0]!)).keys()]).toEqual(['photo']);
    expect(answer).toMatchObject({
      transactionId: 'ce394cea-a3cf-4044-8ce8-54e398dda667',
      status: 200,
      result: { similarity: 1, templateId: 'e85098dd-4667-4a91-a0a0-adf5b8e9336d' },
    });
    expect(answer.body).toEqual(JSON.parse(OOTO_IDENTIFY_200));

    await client().identify(photo, { checkLiveness: false, checkDeepfake: false });
    expect(requests[1]!.path).toBe('/api/v1.0/identify');
  });

  it('sends check_liveness / check_deepfake=true only for the flags asked', async () => {
    serve([{ status: 200, body: OOTO_IDENTIFY_200 }]);
    await client().identify(photo, { checkLiveness: true, checkDeepfake: true });
    await client().identify(photo, { checkLiveness: true });
    await client().identify(photo, { checkDeepfake: true, checkLiveness: false });
    expect(requests.map((r) => r.path)).toEqual([
      '/api/v1.0/identify?check_liveness=true&check_deepfake=true',
      '/api/v1.0/identify?check_liveness=true',
      '/api/v1.0/identify?check_deepfake=true',
    ]);
  });

  it('turns the seed 400 (engine code 1) into VendorRejectedError', async () => {
    serve([{ status: 400, body: OOTO_IDENTIFY_400 }]);
    const error = await rejectionOf(client().identify(photo, { checkLiveness: true }));
    expect(error).toBeInstanceOf(VendorRejectedError);
    expect(error).toMatchObject({ code: 1, message: 'photo should not be empty', transactionId: '9191079a-4f80-4c8a-9a4b-528af2cfd3c4' });
  });

  it('reads a null or absent templateId as null', async () => {
    serve([
      { status: 200, body: '{"transactionId":"a","result":{"similarity":0.2,"templateId":null}}' },
      { status: 200, body: '{"transactionId":"b","result":{"similarity":0.1}}' },
    ]);
    expect((await client().identify(photo, {})).result).toEqual({ similarity: 0.2, templateId: null });
    expect((await client().identify(photo, {})).result).toEqual({ similarity: 0.1, templateId: null });
  });

  it('requires a numeric similarity', async () => {
    serve([{ status: 200, body: '{"transactionId":"c","result":{"templateId":"x"}}' }]);
    expect(await rejectionOf(client().identify(photo, {}))).toBeInstanceOf(MalformedResponseError);
  });
});

describe('OOTO add', () => {
  it('posts `photo` and an optional `templateId` field to /api/v1.0/add', async () => {
    serve([{ status: 200, body: '{"transactionId":"add-1","result":{"templateId":"tpl-42"}}' }]);
    const answer = await client().add(photo, 'tpl-42');
    expect(requests[0]!.path).toBe('/api/v1.0/add');
    const form = await multipartOf(requests[0]!);
    expect(form.get('templateId')).toBe('tpl-42');
    expect((await filePart(form, 'photo')).bytes).toEqual(photo.bytes);
    expect(answer).toMatchObject({ transactionId: 'add-1', result: { templateId: 'tpl-42' } });

    await client().add(photo);
    expect([...(await multipartOf(requests[1]!)).keys()]).toEqual(['photo']);
  });
});

describe('OOTO base URL with a path prefix', () => {
  it('joins the prefix and the endpoint path', async () => {
    serve([{ status: 200, body: OOTO_DEEPFAKE_200 }, { status: 200, body: OOTO_IDENTIFY_200 }], 'http://127.0.0.1:4010');
    await client({ baseUrl: 'http://127.0.0.1:4010/ooto/' }).deepfake(photo);
    await client({ baseUrl: 'http://127.0.0.1:4010/ooto' }).identify(photo, { checkDeepfake: true });
    expect(requests.map((r) => r.path)).toEqual(['/ooto/api/v1.0/deepfake', '/ooto/api/v1.0/identify?check_deepfake=true']);
  });
});

describe('OOTO taxonomy', () => {
  it('sends no APP-KEY header when the key is undefined, and maps 401 to AuthenticationError (not retried)', async () => {
    serve([{ status: 401, body: '{"transactionId":"t-401","result":{"status":"error","info":"unauthorized"}}' }]);
    const error = await rejectionOf(client({ appKey: undefined }).deepfake(photo));
    expect(requests[0]!.headers).not.toHaveProperty('app-key');
    expect(requests[0]!.headers['app-id']).toBe(APP_ID);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error).toMatchObject({ status: 401, transactionId: 't-401' });
    expect(dispositionOf(error)).toBe('stop-vendor');
    expect(requests).toHaveLength(1);
  });

  it('sends neither header when both are undefined', async () => {
    serve([{ status: 401, body: '' }]);
    await rejectionOf(client({ appId: undefined, appKey: undefined }).deepfake(photo));
    expect(requests[0]!.headers).not.toHaveProperty('app-id');
    expect(requests[0]!.headers).not.toHaveProperty('app-key');
  });

  it('maps 403 to PermissionDeniedError', async () => {
    serve([{ status: 403, body: '{"error":"forbidden"}' }]);
    const error = await rejectionOf(client().identify(photo, {}));
    expect(error).toBeInstanceOf(PermissionDeniedError);
    expect(requests).toHaveLength(1);
  });

  it('maps 429 to RateLimitedError with Retry-After in ms, and does not retry it', async () => {
    serve([{ status: 429, body: '', headers: { 'Retry-After': '3' } }]);
    const error = await rejectionOf(client().deepfake(photo));
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterMs).toBe(3000);
    expect(requests).toHaveLength(1);
  });

  it('maps 429 without Retry-After to RateLimitedError with no delay', async () => {
    serve([{ status: 429, body: '{"transactionId":"t-429"}' }]);
    const error = await rejectionOf(client().deepfake(photo));
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toMatchObject({ retryAfterMs: undefined, transactionId: 't-429' });
  });

  it('does not repeat a 500 inside the call: the vendor got the request (a later attempt may, within the budget)', async () => {
    serve([
      { status: 500, body: 'Internal Server Error', headers: { 'content-type': 'text/plain' } },
      { status: 200, body: OOTO_DEEPFAKE_200 },
    ]);
    const error = await rejectionOf(client().deepfake(photo));
    expect(error).toBeInstanceOf(InternalServerError);
    expect(dispositionOf(error)).toBe('retry');
    expect(requests).toHaveLength(1);
  });

  it('gives up on 503 at once with InternalServerError', async () => {
    serve([{ status: 503, body: '{"transactionId":"t-503"}' }]);
    const error = await rejectionOf(client({ callRetries: 2 }).deepfake(photo));
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error).toMatchObject({ status: 503, transactionId: 't-503' });
    expect(requests).toHaveLength(1);
  });

  it('maps a slow answer to TimeoutError', async () => {
    agent.get(ORIGIN).intercept({ path: '/api/v1.0/deepfake', method: 'POST' }).reply(200, OOTO_DEEPFAKE_200).delay(500);
    const error = await rejectionOf(client({ timeoutMs: 50, callRetries: 0 }).deepfake(photo));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(dispositionOf(error)).toBe('retry');
  });

  it('maps a connection failure to ConnectionError after retrying it', async () => {
    agent
      .get(ORIGIN)
      .intercept({ path: '/api/v1.0/deepfake', method: 'POST' })
      .replyWithError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED' }))
      .times(3);
    const error = await rejectionOf(client({ callRetries: 2 }).deepfake(photo));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(agent.pendingInterceptors()).toHaveLength(0);
  });

  it('recovers from a refused connection on retry (re-uploading the photo)', async () => {
    agent
      .get(ORIGIN)
      .intercept({ path: '/api/v1.0/deepfake', method: 'POST' })
      .replyWithError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED' }));
    serve([{ status: 200, body: OOTO_DEEPFAKE_200 }]);
    const answer = await client().deepfake(photo);
    expect(answer.result.fine).toBe(true);
    expect((await filePart(await multipartOf(requests[0]!), 'photo')).bytes).toEqual(photo.bytes);
  });

  it('does not repeat a socket error inside the call: the request may have reached the vendor', async () => {
    agent
      .get(ORIGIN)
      .intercept({ path: '/api/v1.0/deepfake', method: 'POST' })
      .replyWithError(new undiciErrors.SocketError('other side closed'));
    agent.get(ORIGIN).intercept({ path: '/api/v1.0/deepfake', method: 'POST' }).reply(200, OOTO_DEEPFAKE_200, { headers: JSON_HEADERS });
    const error = await rejectionOf(client().deepfake(photo));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).toMatchObject({ requestSent: true });
    expect(agent.pendingInterceptors()).toHaveLength(1);
  });

  it('never puts a credential in a thrown error', async () => {
    const errors: unknown[] = [];
    for (const reply of [
      { status: 400, body: OOTO_DEEPFAKE_400 },
      { status: 400, body: '{}' },
      { status: 401, body: '' },
      { status: 403, body: '' },
      { status: 429, body: '', headers: { 'retry-after': '1' } },
      { status: 503, body: '' },
      { status: 200, body: 'not json' },
    ] satisfies Reply[]) {
      await agent.close();
      agent = createMockAgent();
      requests = [];
      serve([reply]);
      errors.push(await rejectionOf(client({ callRetries: 0 }).deepfake(photo)));
    }
    await agent.close();
    agent = createMockAgent();
    agent.get(ORIGIN).intercept({ path: () => true, method: 'POST' }).replyWithError(new undiciErrors.SocketError('closed'));
    errors.push(await rejectionOf(client({ callRetries: 0 }).deepfake(photo)));
    agent.get(ORIGIN).intercept({ path: () => true, method: 'POST' }).reply(200, '{}').delay(300);
    errors.push(await rejectionOf(client({ callRetries: 0, timeoutMs: 30 }).deepfake(photo)));

    expect(errors).toHaveLength(9);
    for (const error of errors) {
      expect(error).toBeInstanceOf(Error);
      expectNoSecrets(error, [APP_ID, APP_KEY]);
    }
  });
});

describe('OOTO close', () => {
  it('leaves a given dispatcher open and closes its own Pool', async () => {
    await client().close();
    serve([{ status: 200, body: OOTO_DEEPFAKE_200 }]);
    await expect(client().deepfake(photo)).resolves.toBeDefined();
    const own = createOotoClient({ baseUrl: 'http://127.0.0.1:1' });
    await expect(own.close()).resolves.toBeUndefined();
  });
});
