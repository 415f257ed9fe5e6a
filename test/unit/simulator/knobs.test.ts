import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { WindowLimiter } from '../../../src/simulator/faults.js';
import { sampleJpeg, sampleMp4, samplePng } from '../../../src/simulator/sample-media.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../../src/simulator/server.js';
import { fileForm, GLAIR_AUTH, OOTO_AUTH, post, UUID } from './helpers.js';

const started: Simulator[] = [];
async function sim(options: SimulatorOptions = {}): Promise<Simulator> {
  const s = await startSimulator(options);
  started.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.close()));
});

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const ooto = (s: Simulator, bytes: Buffer = sampleJpeg(), signal?: AbortSignal) =>
  post(`${s.url}/api/v1.0/deepfake`, fileForm('photo', bytes, 'image/jpeg', 'p.jpg'), OOTO_AUTH, signal);
const glair = (s: Simulator, bytes: Buffer = sampleMp4()) => post(`${s.url}/face/v1/deepfake`, fileForm('video', bytes, 'video/mp4', 'v.mp4'), GLAIR_AUTH);

describe('rate limits', () => {
  it('OOTO answers 429 with Retry-After (whole seconds) and a transaction id once the quota is spent', async () => {
    const s = await sim({ rateLimit: { ooto: { max: 2, durationMs: 2_500 } } });
    expect((await ooto(s)).status).toBe(200);
    expect((await ooto(s)).status).toBe(200);
    const refused = await ooto(s);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('3');
    expect(refused.json.transactionId).toMatch(UUID);
    // GLAIR has its own (here: no) quota.
    expect((await glair(s)).status).toBe(200);
    const stats = s.stats();
    expect(stats.rateLimited).toBe(1);
    expect(stats.responsesByStatus).toEqual({ '200': 3, '429': 1 });
    // A refused call never reached the engine.
    expect(stats.callsByMediaSha256[sha256(sampleJpeg())]).toBe(2);
  });

  it('GLAIR answers 429 TOO_MANY_REQUESTS without Retry-After, with a Request-Id', async () => {
    const s = await sim({ rateLimit: { glair: { max: 1, durationMs: 60_000 } } });
    expect((await glair(s)).status).toBe(200);
    const refused = await glair(s);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBeNull();
    expect(refused.headers.get('request-id')).toMatch(UUID);
    expect(refused.json).toEqual({ status: 'TOO_MANY_REQUESTS', reason: expect.any(String) });
    expect((await ooto(s)).status).toBe(200);
  });

  it('opens a new window once the old one is over, and can be changed at run time', async () => {
    const s = await sim({ rateLimit: { ooto: { max: 1, durationMs: 150 } } });
    expect((await ooto(s)).status).toBe(200);
    expect((await ooto(s)).status).toBe(429);
    await new Promise((r) => setTimeout(r, 200));
    expect((await ooto(s)).status).toBe(200);
    s.configure({ rateLimit: {} });
    for (let i = 0; i < 5; i += 1) expect((await ooto(s)).status).toBe(200);
  });

  it('fixed and sliding windows count as documented', () => {
    const fixed = new WindowLimiter({ max: 2, durationMs: 1000 });
    expect([fixed.take(0), fixed.take(10), fixed.take(20)]).toEqual([0, 0, 980]);
    expect(fixed.take(1000)).toBe(0); // new window [1000, 2000)
    expect(fixed.take(1001)).toBe(0);
    expect(fixed.take(1002)).toBe(998);
    const sliding = new WindowLimiter({ max: 2, durationMs: 1000, window: 'sliding' });
    expect([sliding.take(0), sliding.take(600), sliding.take(700)]).toEqual([0, 0, 300]);
    expect(sliding.take(1000)).toBe(0); // the call at 0 has left the span
    expect(sliding.take(1100)).toBe(500); // 600 and 1000 are still in it
  });
});

describe('failures', () => {
  it('failureRate 1 with 500 / 503 answers in each vendor style', async () => {
    const s = await sim({ failureRate: 1, failureKinds: ['500'] });
    const o = await ooto(s);
    expect(o.status).toBe(500);
    expect(o.json.transactionId).toMatch(UUID);
    s.configure({ failureKinds: ['503'] });
    const g = await glair(s);
    expect(g.status).toBe(503);
    expect(g.headers.get('request-id')).toMatch(UUID);
    expect(g.json).toEqual({ status: 'ERROR', reason: expect.any(String) });
    expect(s.stats().failuresInjected).toBe(2);
    // The media still counts: the call reached the vendor.
    expect(s.stats().callsByMediaSha256[sha256(sampleMp4())]).toBe(1);
  });

  it('reset destroys the connection without an answer', async () => {
    const s = await sim({ failureRate: 1, failureKinds: ['reset'] });
    await expect(ooto(s)).rejects.toThrow();
    expect(s.stats().responsesByStatus).toEqual({ reset: 1 });
  });

  it('timeout never answers; the client gives up and close() still returns', async () => {
    const s = await sim({ failureRate: 1, failureKinds: ['timeout'] });
    const started = performance.now();
    await expect(ooto(s, sampleJpeg(), AbortSignal.timeout(300))).rejects.toThrow();
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    expect(s.stats().responsesByStatus).toEqual({ timeout: 1 });
    // A held request on an open socket must not keep close() waiting.
    const held = ooto(s).catch(() => 'closed');
    await new Promise((r) => setTimeout(r, 50));
    await s.close();
    await expect(held).resolves.toBe('closed');
  });

  it('a failure rate fails about that share of the calls, reproducibly with randomSeed', async () => {
    const run = async (): Promise<number[]> => {
      const s = await sim({ failureRate: 0.5, failureKinds: ['500', '503'], randomSeed: 7 });
      const statuses: number[] = [];
      for (let i = 0; i < 40; i += 1) statuses.push((await glair(s)).status);
      return statuses;
    };
    const first = await run();
    const failed = first.filter((x) => x !== 200).length;
    expect(failed).toBeGreaterThan(8);
    expect(failed).toBeLessThan(32);
    expect(await run()).toEqual(first);
  });

  it('failNext scripts the next failures of a vendor', async () => {
    const s = await sim();
    s.failNext(2, '503', 'glair');
    expect((await ooto(s)).status).toBe(200);
    expect((await glair(s)).status).toBe(503);
    expect((await glair(s)).status).toBe(503);
    expect((await glair(s)).status).toBe(200);
  });

  it('failures apply after authentication', async () => {
    const s = await sim({ failureRate: 1, failureKinds: ['500'] });
    const r = await post(`${s.url}/api/v1.0/deepfake`, fileForm('photo', sampleJpeg(), 'image/jpeg'), {});
    expect(r.status).toBe(401);
  });
});

describe('latency', () => {
  it('delays every vendor answer by latencyMs (+ jitter), not the admin endpoints', { timeout: 20_000 }, async () => {
    // A latency far above what a loaded machine adds, so "not delayed" is "well under it".
    const s = await sim({ latencyMs: 3_000, latencyJitterMs: 30 });
    let t = performance.now();
    expect((await ooto(s)).status).toBe(200);
    expect(performance.now() - t).toBeGreaterThanOrEqual(2_990);
    t = performance.now();
    await fetch(`${s.url}/__sim/stats`).then((r) => r.json());
    expect(performance.now() - t).toBeLessThan(1_500);
    s.configure({ latencyMs: 0, latencyJitterMs: 0 });
    t = performance.now();
    await ooto(s);
    expect(performance.now() - t).toBeLessThan(1_500);
  });
});

describe('stats and admin endpoints', () => {
  it('counts calls by endpoint, status and media sha256 (frames concatenated), also over HTTP', async () => {
    const s = await sim();
    const photo = samplePng({ seed: 5 });
    await post(`${s.url}/api/v1.0/deepfake`, fileForm('photo', photo, 'image/png'), OOTO_AUTH);
    await post(`${s.url}/api/v1.0/identify?check_liveness=true`, fileForm('photo', photo, 'image/png'), OOTO_AUTH);
    await post(`${s.url}/api/v1.0/add`, fileForm('photo', sampleJpeg({ seed: 9 }), 'image/jpeg'), OOTO_AUTH);
    const f1 = sampleJpeg({ seed: 1 });
    const f2 = samplePng({ seed: 2 });
    await post(`${s.url}/face/v1/deepfake/images`, JSON.stringify({ frames: [f1.toString('base64'), f2.toString('base64')] }), GLAIR_AUTH);
    await post(`${s.url}/api/v1.0/deepfake`, fileForm('photo', Buffer.alloc(0), 'image/png'), OOTO_AUTH);
    const stats = s.stats();
    expect(stats.totalCalls).toBe(5);
    expect(stats.callsByEndpoint).toEqual({ 'ooto-deepfake': 2, 'ooto-identify': 1, 'ooto-add': 1, 'glair-video': 0, 'glair-frames': 1 });
    expect(stats.responsesByStatus).toEqual({ '200': 4, '400': 1 });
    expect(stats.callsByMediaSha256).toEqual({
      [sha256(photo)]: 2,
      [sha256(Buffer.concat([f1, f2]))]: 1,
      [sha256(Buffer.alloc(0))]: 1,
    });
    const overHttp: unknown = await fetch(`${s.url}/__sim/stats`).then((r) => r.json());
    expect(overHttp).toEqual(stats);
    expect((await fetch(`${s.url}/__sim/reset-stats`, { method: 'POST' })).status).toBe(204);
    expect(s.stats().totalCalls).toBe(0);
    s.resetStats();
    expect(s.stats().callsByMediaSha256).toEqual({});
  });

  it('POST /__sim/configure changes knobs from another process; bad settings are refused', async () => {
    const s = await sim();
    const ok = await post(`${s.url}/__sim/configure`, JSON.stringify({ failureRate: 1, failureKinds: ['503'], seedTemplates: [{ face: 'ivy', templateId: 't-ivy' }] }));
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ failureRate: 1, failureKinds: ['503'] });
    expect(ok.json.credentials).toBeUndefined();
    expect((await ooto(s)).status).toBe(503);
    const bad = await post(`${s.url}/__sim/configure`, JSON.stringify({ failureRate: 2 }));
    expect(bad.status).toBe(400);
    await post(`${s.url}/__sim/configure`, JSON.stringify({ failureRate: 0 }));
    const ivy = await post(`${s.url}/api/v1.0/identify`, fileForm('photo', sampleJpeg({ directives: 'face=ivy' }), 'image/jpeg'), OOTO_AUTH);
    expect(ivy.json.result.templateId).toBe('t-ivy');
  });

  it('configure() validates values and can change credentials', async () => {
    const s = await sim();
    expect(() => s.configure({ failureRate: -1 })).toThrow(RangeError);
    expect(() => s.configure({ rateLimit: { ooto: { max: 0, durationMs: 1000 } } })).toThrow(RangeError);
    s.configure({ credentials: { ooto: { appId: 'other', appKey: 'secret' } } });
    expect((await ooto(s)).status).toBe(401);
    const r = await post(`${s.url}/api/v1.0/deepfake`, fileForm('photo', sampleJpeg(), 'image/jpeg'), { 'APP-ID': 'other', 'APP-KEY': 'secret' });
    expect(r.status).toBe(200);
    expect((await glair(s)).status).toBe(200);
  });
});

describe('lifecycle', () => {
  it('listens on 127.0.0.1 with both base URLs = url, and close() ends idle keep-alive sockets at once', async () => {
    const s = await startSimulator();
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s.ootoBaseUrl).toBe(s.url);
    expect(s.glairBaseUrl).toBe(s.url);
    await ooto(s);
    const t = performance.now();
    await s.close();
    // At once, not after the 30 s keep-alive timeout (10 s: a loaded box).
    expect(performance.now() - t).toBeLessThan(10_000);
    await expect(fetch(`${s.url}/__sim/health`)).rejects.toThrow();
  });
});
