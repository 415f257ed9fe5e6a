/**
 * Issue 16, item 3: vendor answers are read with a hard cap. The clients against a bare node:http
 * stand-in (not the simulator) streaming answers of 60 MB, with a Content-Length and chunked: the
 * call ends VENDOR_ANSWER_TOO_LARGE, and the stand-in sees the connection close long before its
 * answer was out. An answer up to the cap is read and parsed as before.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/runtime/built-ins.js';
import { AnswerTooLargeError, InternalServerError, RateLimitedError } from '../../../src/errors/errors.js';
import { callCost, dispositionOf, shouldRetry } from '../../../src/errors/retry-policy.js';
import { createGlairClient } from '../../../src/vendors/glair/client.js';
import { createOotoClient } from '../../../src/vendors/ooto/client.js';
import { DEFAULT_MAX_ANSWER_BYTES } from '../../../src/vendors/http.js';
import type { VendorCallEvent } from '../../../src/vendors/observer.js';
import { startBigAnswerServer, type BigAnswerServer } from '../../helpers/big-answer-server.js';
import { eventually } from '../../helpers/pipeline.js';
import { photo, rejectionOf, video } from './helpers.js';

const MB = 1024 * 1024;
/** What a cut-off 60 MB answer may have pushed out: the cap, plus loopback socket buffers on both sides. */
const FAR_BELOW = 16 * MB;

let server: BigAnswerServer | undefined;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await server?.close();
  server = undefined;
});

function ooto(url: string, extra: { maxAnswerBytes?: number; events?: VendorCallEvent[] } = {}) {
  const client = createOotoClient({
    baseUrl: url,
    appId: 'app-id-7f3a9c',
    appKey: 'app-key-41d2e8',
    callRetries: 2,
    ...(extra.maxAnswerBytes === undefined ? {} : { maxAnswerBytes: extra.maxAnswerBytes }),
    ...(extra.events ? { observer: { vendorCall: (e: VendorCallEvent) => extra.events!.push(e) } } : {}),
  });
  closers.push(() => client.close());
  return client;
}

/** The stand-in's one answer, once it has ended. */
async function onlyAnswer(s: BigAnswerServer) {
  const [answer] = await eventually(async () => [...s.answers], (a) => a.length === 1, 10_000);
  return answer!;
}

describe('a 60 MB vendor answer', () => {
  it.each(['length', 'chunked'] as const)('(%s) ends VENDOR_ANSWER_TOO_LARGE; the connection closes with far less than 60 MB sent', async (framing) => {
    server = await startBigAnswerServer({ bytes: 60 * MB, framing });
    const events: VendorCallEvent[] = [];
    const error = await rejectionOf(ooto(server.url, { events }).deepfake(photo));

    expect(error).toBeInstanceOf(AnswerTooLargeError);
    expect(error).toMatchObject({ code: 'VENDOR_ANSWER_TOO_LARGE', vendor: 'ooto', status: 200, maxBytes: DEFAULT_MAX_ANSWER_BYTES, transactionId: null });
    expect((error as Error).message).toContain('RESCREEN_MAX_ANSWER_BYTES=1048576');
    const answer = await onlyAnswer(server);
    expect(answer.closedEarly).toBe(true);
    expect(answer.bytesSent).toBeLessThan(FAR_BELOW);
    // One call, not repeated in the call (it reached the vendor), observed as the 2xx it was.
    expect(server.requests).toBe(1);
    expect(events).toEqual([expect.objectContaining({ vendor: 'ooto', statusClass: '2xx', rateLimited: false })]);
  });

  it('GLAIR the same (chunked)', async () => {
    server = await startBigAnswerServer({ bytes: 60 * MB, framing: 'chunked' });
    const client = createGlairClient({ baseUrl: server.url, username: 'user-abcd', password: 'pass-abcd', apiKey: 'key-abcd' });
    closers.push(() => client.close());
    const error = await rejectionOf(client.video(video));
    expect(error).toMatchObject({ code: 'VENDOR_ANSWER_TOO_LARGE', vendor: 'glair', status: 200 });
    expect((await onlyAnswer(server)).closedEarly).toBe(true);
  });

  it('is final and counts as a paid call: never retried, not charged twice', async () => {
    const error = new AnswerTooLargeError({ vendor: 'ooto', status: 200, headers: {}, maxBytes: MB, message: 'too large' });
    expect(dispositionOf(error)).toBe('failed');
    expect(shouldRetry(error, 'attempt')).toBe(false);
    expect(shouldRetry(error, 'in-call')).toBe(false);
    expect(callCost(error)).toBe('answered');
  });
});

describe('the statuses whose meaning is the status alone', () => {
  it.each([
    [503, InternalServerError, 'HTTP_503'],
    [429, RateLimitedError, 'HTTP_429'],
  ] as const)('a %i with a 60 MB body keeps its status (the body is dropped at the cap)', async (status, kind, code) => {
    server = await startBigAnswerServer({ bytes: 60 * MB, framing: 'chunked', status });
    const error = await rejectionOf(ooto(server.url).deepfake(photo));
    expect(error).toBeInstanceOf(kind);
    expect(error).toMatchObject({ code, status, body: `[answer over ${MB} bytes: not read]` });
    const answer = await onlyAnswer(server);
    expect(answer.closedEarly).toBe(true);
    expect(answer.bytesSent).toBeLessThan(FAR_BELOW);
  });
});

describe('an answer up to the cap', () => {
  it.each(['length', 'chunked'] as const)('(%s) just under the default cap and exactly at a set cap is parsed as before', async (framing) => {
    server = await startBigAnswerServer({ bytes: DEFAULT_MAX_ANSWER_BYTES - 16, framing });
    const answer = await ooto(server.url).deepfake(photo);
    expect(answer).toMatchObject({ transactionId: 'tx-big', status: 200, result: { score: 0.9, fine: true } });
    expect((answer.body as { pad: string }).pad.length).toBeGreaterThan(DEFAULT_MAX_ANSWER_BYTES - 200);
    await server.close();

    server = await startBigAnswerServer({ bytes: 4096, framing });
    await expect(ooto(server.url, { maxAnswerBytes: 4096 }).deepfake(photo)).resolves.toMatchObject({ result: { fine: true } });
    const over = await rejectionOf(ooto(server.url, { maxAnswerBytes: 4095 }).deepfake(photo));
    expect(over).toMatchObject({ code: 'VENDOR_ANSWER_TOO_LARGE', maxBytes: 4095 });
  });
});

describe('RESCREEN_MAX_ANSWER_BYTES', () => {
  it('defaults to 1 MiB, takes a number of bytes, refuses one under 1024 in words', () => {
    expect(loadConfig({}).worker.maxAnswerBytes).toBe(1_048_576);
    expect(loadConfig({ RESCREEN_MAX_ANSWER_BYTES: '2097152' }).worker.maxAnswerBytes).toBe(2_097_152);
    expect(() => loadConfig({ RESCREEN_MAX_ANSWER_BYTES: '100' })).toThrow(/RESCREEN_MAX_ANSWER_BYTES must be a whole number ≥ 1024 \(got "100"\)/);
  });
});
