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
  VendorRejectedError,
} from '../../../src/errors/errors.js';
import { dispositionOf } from '../../../src/errors/retry-policy.js';
import { createGlairClient, framesJson, type GlairClientOptions } from '../../../src/vendors/glair/client.js';
import type { GlairClient } from '../../../src/vendors/types.js';
import {
  createMockAgent,
  expectNoSecrets,
  filePart,
  serveReplies,
  type Reply,
  multipartOf,
  photo,
  pngPhoto,
  rejectionOf,
  textOf,
  video,
  type CapturedRequest,
} from './helpers.js';
import { GLAIR_400, GLAIR_FAKE_200, GLAIR_FRAMES_200, GLAIR_REAL_200 } from '../../fixtures/vendor-samples.js';

const ORIGIN = 'https://api.vision.glair.ai';
const USERNAME = 'glair-user-5c1e';
const PASSWORD = 'glair-pass-SECRET-90ab';
const API_KEY = 'glair-api-key-SECRET-77f0';
const BASIC = `Basic ${Buffer.from(`${USERNAME}:${PASSWORD}`).toString('base64')}`;

let agent: MockAgent;
let requests: CapturedRequest[];

beforeEach(() => {
  agent = createMockAgent();
  requests = [];
});
afterEach(async () => {
  await agent.close();
});

function client(overrides: Partial<GlairClientOptions> = {}): GlairClient {
  return createGlairClient({
    baseUrl: ORIGIN,
    username: USERNAME,
    password: PASSWORD,
    apiKey: API_KEY,
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

function restart(): void {
  requests = [];
}

describe('GLAIR video', () => {
  it('posts multipart `video` (video/mp4) with Basic auth and x-api-key; reads the fake seed and Request-Id', async () => {
    serve([{ status: 200, body: GLAIR_FAKE_200, headers: { 'Request-Id': 'req-fake-1' } }]);
    const answer = await client().video(video);

    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe('/face/v1/deepfake');
    expect(request!.headers.authorization).toBe(BASIC);
    expect(request!.headers['x-api-key']).toBe(API_KEY);
    const form = await multipartOf(request!);
    expect([...form.keys()]).toEqual(['video']);
    expect(await filePart(form, 'video')).toEqual({ name: 'liveness.mp4', type: 'video/mp4', bytes: video.bytes });

    expect(answer).toEqual({
      transactionId: 'req-fake-1',
      status: 200,
      result: { value: 'fake', confidence: 0.99768 },
      body: JSON.parse(GLAIR_FAKE_200),
    });
  });

  it('reads the real seed', async () => {
    serve([{ status: 200, body: GLAIR_REAL_200, headers: { 'request-id': 'req-real-1' } }]);
    const answer = await client().video(video);
    expect(answer.result).toEqual({ value: 'real', confidence: 0.06415167450904846 });
    expect(answer.transactionId).toBe('req-real-1');
  });

  it('has a null transaction id without a Request-Id header', async () => {
    serve([{ status: 200, body: GLAIR_REAL_200 }]);
    expect((await client().video(video)).transactionId).toBeNull();
  });

  it('turns the seed 400 into VendorRejectedError with the status string and Request-Id', async () => {
    serve([{ status: 400, body: GLAIR_400, headers: { 'Request-Id': 'req-400' } }]);
    const error = await rejectionOf(client().video(video));
    expect(error).toBeInstanceOf(VendorRejectedError);
    expect(error).toMatchObject({
      vendor: 'glair',
      status: 400,
      code: 'ERROR',
      message: 'No file in request body',
      transactionId: 'req-400',
      body: JSON.parse(GLAIR_400),
    });
    expect(dispositionOf(error)).toBe('rejected');
    expect(requests).toHaveLength(1);
  });

  it('uses HTTP_400 when a 400 body has no status', async () => {
    serve([{ status: 400, body: 'bad', headers: { 'content-type': 'text/plain' } }]);
    const error = await rejectionOf(client().video(video));
    expect(error).toBeInstanceOf(VendorRejectedError);
    expect(error).toMatchObject({ code: 'HTTP_400', body: 'bad' });
  });

  it('turns 415 into VendorRejectedError HTTP_415', async () => {
    serve([{ status: 415, body: '{"message":"Unsupported Media Type"}', headers: { 'Request-Id': 'req-415' } }]);
    const error = await rejectionOf(client().video(video));
    expect(error).toBeInstanceOf(VendorRejectedError);
    expect(error).toMatchObject({ code: 'HTTP_415', status: 415, transactionId: 'req-415' });
    expect(requests).toHaveLength(1);
  });

  it.each(['NO_FILE', 'FILE_INVALID_FORMAT', 'FAILED', 'ERROR', 'SOMETHING_NEW'])(
    'turns status %s on a 200 into VendorRejectedError with that code and the reason',
    async (status) => {
      serve([{ status: 200, body: JSON.stringify({ status, reason: `reason for ${status}` }), headers: { 'Request-Id': `req-${status}` } }]);
      const error = await rejectionOf(client().video(video));
      expect(error).toBeInstanceOf(VendorRejectedError);
      expect(error).toMatchObject({ code: status, message: `reason for ${status}`, transactionId: `req-${status}`, status: 200 });
    },
  );

  it('accepts the older answer shape in its variants', async () => {
    serve([
      { status: 200, body: '{"status":"SUCCESS","result":{"deepfake_status":"FAKE","confidence_score":0.91}}' },
      { status: 200, body: '{"status":"SUCCESS","result":{"deepfake_status":"Real","confidence_score":12.5}}' },
      { status: 200, body: '{"status":"SUCCESS","result":{"deepfake_status":true,"confidence_score":97}}' },
      { status: 200, body: '{"status":"SUCCESS","result":{"deepfake_status":false,"confidence_score":0.03}}' },
    ]);
    const c = client();
    expect((await c.video(video)).result).toEqual({ value: 'fake', confidence: 0.91 });
    expect((await c.video(video)).result).toEqual({ value: 'real', confidence: 0.125 });
    expect((await c.video(video)).result).toEqual({ value: 'fake', confidence: 0.97 });
    expect((await c.video(video)).result).toEqual({ value: 'real', confidence: 0.03 });
  });

  it('reads a percentage confidence and any-case value in the current shape, tolerating extra fields', async () => {
    const body = { status: 'SUCCESS', reason: 'ok', model: 'v3', read: { deepfake: { confidence: 99.768, value: 'FAKE', extra: 1 }, face: {} } };
    serve([{ status: 200, body: JSON.stringify(body) }]);
    const answer = await client().video(video);
    expect(answer.result.value).toBe('fake');
    expect(answer.result.confidence).toBeCloseTo(0.99768, 10);
    expect(answer.body).toEqual(body);
  });

  it('turns an unreadable SUCCESS into MalformedResponseError', async () => {
    serve([
      { status: 200, body: '{"status":"SUCCESS","reason":"File Successfully Read"}', headers: { 'Request-Id': 'req-m' } },
      { status: 200, body: '{"status":"SUCCESS","read":{"deepfake":{"confidence":0.5,"value":"maybe"}}}' },
      { status: 200, body: '{"status":"SUCCESS","read":{"deepfake":{"confidence":250,"value":"fake"}}}' },
      { status: 200, body: 'File Successfully Read', headers: { 'content-type': 'text/plain' } },
    ]);
    const c = client();
    const first = await rejectionOf(c.video(video));
    expect(first).toBeInstanceOf(MalformedResponseError);
    expect(first).toMatchObject({ status: 200, transactionId: 'req-m', body: { status: 'SUCCESS' } });
    expect(dispositionOf(first)).toBe('failed');
    expect(await rejectionOf(c.video(video))).toBeInstanceOf(MalformedResponseError);
    expect(await rejectionOf(c.video(video))).toBeInstanceOf(MalformedResponseError);
    const text = await rejectionOf(c.video(video));
    expect(text).toBeInstanceOf(MalformedResponseError);
    expect(text).toMatchObject({ body: 'File Successfully Read' });
    expect(requests).toHaveLength(4);
  });
});

describe('GLAIR frames', () => {
  it('posts JSON exactly {"frames":[base64…]} and reads the frames seed', async () => {
    serve([{ status: 200, body: GLAIR_FRAMES_200, headers: { 'Request-Id': 'req-frames' } }]);
    const answer = await client().frames([photo, pngPhoto]);
    const [request] = requests;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe('/face/v1/deepfake/images');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers.authorization).toBe(BASIC);
    expect(request!.headers['x-api-key']).toBe(API_KEY);
    const sent = textOf(request!);
    expect(sent).toBe(`{"frames":["${photo.bytes.toString('base64')}","${pngPhoto.bytes.toString('base64')}"]}`);
    expect(JSON.parse(sent)).toEqual({ frames: [photo.bytes.toString('base64'), pngPhoto.bytes.toString('base64')] });
    expect(answer).toEqual({
      transactionId: 'req-frames',
      status: 200,
      result: { value: 'real', confidence: 0.06789 },
      body: JSON.parse(GLAIR_FRAMES_200),
    });
  });

  it('builds the frames body for one frame and for none', () => {
    expect(framesJson([photo]).toString()).toBe(`{"frames":["${photo.bytes.toString('base64')}"]}`);
    expect(JSON.parse(framesJson([pngPhoto, photo, pngPhoto]).toString())).toEqual({
      frames: [pngPhoto.bytes.toString('base64'), photo.bytes.toString('base64'), pngPhoto.bytes.toString('base64')],
    });
  });

  it('resends the same frames body on a retry', async () => {
    agent
      .get(ORIGIN)
      .intercept({ path: '/face/v1/deepfake/images', method: 'POST' })
      .replyWithError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED' }));
    serve([{ status: 200, body: GLAIR_FRAMES_200 }]);
    await client().frames([photo]);
    expect(requests).toHaveLength(1);
    expect(textOf(requests[0]!)).toBe(framesJson([photo]).toString());
  });
});

describe('GLAIR base URL with a path prefix', () => {
  it('joins the prefix and the endpoint paths', async () => {
    serve([{ status: 200, body: GLAIR_FAKE_200 }], 'http://127.0.0.1:4010');
    const c = client({ baseUrl: 'http://127.0.0.1:4010/glair' });
    await c.video(video);
    await c.frames([photo]);
    expect(requests.map((r) => r.path)).toEqual(['/glair/face/v1/deepfake', '/glair/face/v1/deepfake/images']);
  });
});

describe('GLAIR taxonomy', () => {
  it('omits undefined credentials and maps 401 to AuthenticationError (not retried)', async () => {
    serve([{ status: 401, body: '{"message":"Unauthorized"}', headers: { 'Request-Id': 'req-401' } }]);
    const error = await rejectionOf(client({ username: undefined, password: undefined, apiKey: undefined }).video(video));
    expect(requests[0]!.headers).not.toHaveProperty('authorization');
    expect(requests[0]!.headers).not.toHaveProperty('x-api-key');
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error).toMatchObject({ status: 401, transactionId: 'req-401' });
    expect(requests).toHaveLength(1);
  });

  it('sends x-api-key alone when no Basic credentials are set', async () => {
    serve([{ status: 200, body: GLAIR_REAL_200 }]);
    await client({ username: undefined, password: undefined }).video(video);
    expect(requests[0]!.headers).not.toHaveProperty('authorization');
    expect(requests[0]!.headers['x-api-key']).toBe(API_KEY);
  });

  it('maps 403 to PermissionDeniedError', async () => {
    serve([{ status: 403, body: '{"message":"Forbidden"}' }]);
    expect(await rejectionOf(client().frames([photo]))).toBeInstanceOf(PermissionDeniedError);
    expect(requests).toHaveLength(1);
  });

  it('maps 429 without Retry-After (GLAIR sends none) to RateLimitedError', async () => {
    serve([{ status: 429, body: '{"message":"Too Many Requests"}', headers: { 'Request-Id': 'req-429' } }]);
    const error = await rejectionOf(client().video(video));
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toMatchObject({ retryAfterMs: undefined, transactionId: 'req-429' });
    expect(requests).toHaveLength(1);
  });

  it('maps 429 with Retry-After to its delay', async () => {
    serve([{ status: 429, body: '', headers: { 'Retry-After': '12' } }]);
    expect(await rejectionOf(client().video(video))).toMatchObject({ retryAfterMs: 12_000 });
  });

  it('does not repeat a 500 inside the call: the vendor got the request (a later attempt may, within the budget)', async () => {
    serve([{ status: 500, body: '' }, { status: 200, body: GLAIR_FAKE_200, headers: { 'Request-Id': 'req-ok' } }]);
    const error = await rejectionOf(client().video(video));
    expect(error).toBeInstanceOf(InternalServerError);
    expect(requests).toHaveLength(1);
    expect((await filePart(await multipartOf(requests[0]!), 'video')).bytes).toEqual(video.bytes);
  });

  it('gives up on 503 at once with InternalServerError carrying the Request-Id', async () => {
    serve([{ status: 503, body: 'Service Unavailable', headers: { 'Request-Id': 'req-503', 'content-type': 'text/plain' } }]);
    const error = await rejectionOf(client({ callRetries: 1 }).video(video));
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error).toMatchObject({ status: 503, transactionId: 'req-503', body: 'Service Unavailable' });
    expect(requests).toHaveLength(1);
  });

  it('maps a slow answer to TimeoutError', async () => {
    agent.get(ORIGIN).intercept({ path: '/face/v1/deepfake', method: 'POST' }).reply(200, GLAIR_FAKE_200).delay(500);
    const error = await rejectionOf(client({ timeoutMs: 50, callRetries: 0 }).video(video));
    expect(error).toBeInstanceOf(TimeoutError);
  });

  it('maps a connection reset to ConnectionError', async () => {
    agent
      .get(ORIGIN)
      .intercept({ path: '/face/v1/deepfake/images', method: 'POST' })
      .replyWithError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    const error = await rejectionOf(client({ callRetries: 0 }).frames([photo]));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).toMatchObject({ transactionId: null });
  });

  it('re-throws a caller abort as-is', async () => {
    agent.get(ORIGIN).intercept({ path: '/face/v1/deepfake', method: 'POST' }).reply(200, GLAIR_FAKE_200).delay(500);
    const controller = new AbortController();
    const reason = new Error('shutdown');
    setTimeout(() => controller.abort(reason), 20);
    expect(await rejectionOf(client().video(video, { signal: controller.signal }))).toBe(reason);
  });

  it('never puts a credential in a thrown error', async () => {
    const errors: unknown[] = [];
    for (const reply of [
      { status: 400, body: GLAIR_400 },
      { status: 415, body: '' },
      { status: 200, body: '{"status":"FAILED","reason":"x"}' },
      { status: 200, body: '{"status":"SUCCESS"}' },
      { status: 401, body: '' },
      { status: 403, body: '' },
      { status: 429, body: '' },
      { status: 500, body: '' },
    ] satisfies Reply[]) {
      await agent.close();
      agent = createMockAgent();
      restart();
      serve([reply]);
      errors.push(await rejectionOf(client({ callRetries: 0 }).video(video)));
    }
    await agent.close();
    agent = createMockAgent();
    agent.get(ORIGIN).intercept({ path: () => true, method: 'POST' }).replyWithError(new undiciErrors.SocketError('closed'));
    errors.push(await rejectionOf(client({ callRetries: 0 }).frames([photo])));
    agent.get(ORIGIN).intercept({ path: () => true, method: 'POST' }).reply(200, '{}').delay(300);
    errors.push(await rejectionOf(client({ callRetries: 0, timeoutMs: 30 }).video(video)));

    expect(errors).toHaveLength(10);
    const basicToken = BASIC.slice('Basic '.length);
    for (const error of errors) {
      expect(error).toBeInstanceOf(Error);
      expectNoSecrets(error, [PASSWORD, API_KEY, basicToken]);
    }
  });
});
