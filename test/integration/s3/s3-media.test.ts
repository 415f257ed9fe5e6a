/**
 * s3:// media end to end against a real S3-protocol server on loopback (s3rver, through the testing
 * kit) with the real AWS SDK: 300 refs (photos, mp4s, frame lists) with exact records, sha256 and
 * ETag; a missing key, a denied key and an over-6 MB mp4 end with their codes and no vendor call; a
 * fetch throttled twice (503 SlowDown) completes with one vendor call; `retry` later fetches again;
 * no credential anywhere in the records. (A day later, every process and log scanned:
 * s3-retry-later.test.ts.)
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertOneRecordPerLine,
  createTestEnv,
  frames,
  photo,
  startS3Server,
  startSimulator,
  video,
  type TestEnv,
  type TestS3Server,
  type TestSimulator,
} from '../../../src/testing/index.js';
import { redisUrl } from '../../helpers/redis.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * Waits for the batch as long as its records keep landing: fails when none lands for `stallMs` (a
 * hang), or past `capMs`; not merely because a loaded machine is slow. The 300-ref batch's time is
 * its 100 mp4s' perceptual hashes (one ffmpeg start each, ~0.2 s of CPU) on the machine's cores,
 * not the s3:// fetches (its frame lines, three fetches each, run at 16-20 lines/s): measured 26-32 s
 * at load average 7 and 74-82 s at 13-14 on 2 cores, and past 120 s with two CI runs beside it.
 */
async function waitWhileLanding(batch: string, stallMs = 45_000, capMs = 420_000): Promise<void> {
  const start = Date.now();
  let landed = 0;
  for (;;) {
    try {
      await env.waitForBatch(batch, { timeoutMs: stallMs });
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== 'WAIT_TIMEOUT') throw error;
      const now = (await env.records(batch)).length;
      if (now <= landed || Date.now() - start > capMs) throw error;
      landed = now;
    }
  }
}

let s3: TestS3Server;
let sim: TestSimulator;
let env: TestEnv;
beforeAll(async () => {
  s3 = await startS3Server({ buckets: ['media', 'other'] });
  // The SDK's default chain reads this process's environment (a CLI child gets s3.env instead).
  for (const [name, value] of Object.entries(s3.env)) if (name.startsWith('AWS_')) process.env[name] = value;
  sim = await startSimulator();
  env = await createTestEnv({ simulator: sim, redisUrl: redisUrl(), label: 's3', env: { ...s3.env, RESCREEN_S3_ALLOW_BUCKETS: 'media' } });
});
afterAll(async () => {
  await env?.cleanup();
  await sim?.close();
  await s3?.close();
});

describe('s3:// media refs', () => {
  it('300 refs complete with exact records (sha256, ETag); missing, denied, oversized and refused buckets cost no vendor call', async () => {
    const lines: Record<string, unknown>[] = [];
    const expected = new Map<number, { sha256: string[]; etag: string[] }>();
    const objects: { key: string; body: Buffer }[] = [];
    for (let i = 0; i < 300; i++) {
      if (i < 150) {
        const body = photo({ seed: 1000 + i });
        objects.push({ key: `photos/p${i}.jpg`, body });
        lines.push({ ref: `s3://media/photos/p${i}.jpg`, check: 'ooto-deepfake', subject: `s${i}` });
        expected.set(i + 1, { sha256: [sha(body)], etag: [] });
      } else if (i < 250) {
        const body = video({ seed: 2000 + i });
        objects.push({ key: `videos/v${i}.mp4`, body });
        lines.push({ ref: `s3://media/videos/v${i}.mp4`, check: 'glair-video', subject: `s${i}` });
        expected.set(i + 1, { sha256: [sha(body)], etag: [] });
      } else {
        const set = frames(3, { seed: 3000 + i });
        set.forEach((body, n) => objects.push({ key: `frames/f${i}/${n}.jpg`, body }));
        lines.push({ frames: set.map((_, n) => `s3://media/frames/f${i}/${n}.jpg`), check: 'glair-frames', subject: `s${i}` });
        expected.set(i + 1, { sha256: set.map(sha), etag: [] });
      }
    }
    const etags = new Map<string, string>();
    await Promise.all(objects.map(async (o) => etags.set(o.key, await s3.putObject('media', o.key, o.body))));
    // The bad ones: missing, denied (the store answers AccessDenied), over 6 MB, another bucket, malformed.
    const big = Buffer.concat([video({ seed: 9 }), Buffer.alloc(6.5 * 1024 * 1024)]);
    await s3.putObject('media', 'videos/big.mp4', big);
    await s3.putObject('media', 'secret/denied.jpg', photo({ seed: 8 }));
    s3.fail('media', 'secret/denied.jpg', { status: 403, code: 'AccessDenied' });
    await s3.putObject('other', 'x.jpg', photo({ seed: 7 }));
    lines.push({ ref: 's3://media/photos/missing.jpg', check: 'ooto-deepfake' });
    lines.push({ ref: 's3://media/secret/denied.jpg', check: 'ooto-deepfake' });
    lines.push({ ref: 's3://media/videos/big.mp4', check: 'glair-video' });
    lines.push({ ref: 's3://other/x.jpg', check: 'ooto-deepfake' });
    lines.push({ ref: 's3://media/has space.jpg', check: 'ooto-deepfake' });
    lines.push({ ref: 's3:///nobucket.jpg', check: 'ooto-deepfake' });

    const rescreen = await env.rescreen();
    await rescreen.work();
    const summary = await rescreen.enqueue({ lines, name: 's3' });
    expect(summary.invalid).toBe(2);
    expect(summary.invalidLines.map((l) => l.line)).toEqual([305, 306]);
    expect(summary.invalidLines[0]!.reason).toMatch(/spaces/);
    expect(summary.invalidLines[1]!.reason).toMatch(/no bucket/);
    await waitWhileLanding(summary.batch);
    const records = await env.records(summary.batch);
    assertOneRecordPerLine(records, 306);
    for (const record of records.slice(0, 300)) {
      expect(record.status, JSON.stringify(record.error)).toBe('completed');
      const want = expected.get(record.line)!;
      expect(record.media!.map((m) => m.sha256)).toEqual(want.sha256);
      const keys = (record.frames ?? [record.ref!]).map((r) => r.slice('s3://media/'.length));
      expect(record.media!.map((m) => m.etag)).toEqual(keys.map((k) => etags.get(k)));
    }
    expect(records[0]!.ref).toBe('s3://media/photos/p0.jpg');
    const byLine = (n: number) => records.find((r) => r.line === n)!;
    expect([byLine(301).status, byLine(301).error?.code]).toEqual(['failed', 'MEDIA_NOT_FOUND']);
    expect([byLine(302).status, byLine(302).error?.code]).toEqual(['failed', 'MEDIA_ACCESS_DENIED']);
    expect(byLine(302).attempts).toBe(1); // not retried
    expect(s3.requests('media', 'secret/denied.jpg')).toBe(1);
    expect([byLine(303).status, byLine(303).error?.code]).toEqual(['rejected', 'MEDIA_TOO_LARGE']);
    expect([byLine(304).status, byLine(304).error?.code]).toEqual(['failed', 'MEDIA_HOST_REFUSED']);
    expect(s3.requests('other', 'x.jpg')).toBe(0); // refused before any request
    // One vendor call per completed line, none for the others.
    expect(sim.calls()).toHaveLength(300);
    const text = JSON.stringify(records);
    expect(text).not.toContain(s3.env.AWS_SECRET_ACCESS_KEY!);
  }, 480_000);

  it('a fetch throttled twice (503 SlowDown) completes with exactly one vendor call', async () => {
    const body = photo({ seed: 77 });
    await s3.putObject('media', 'slow/a.jpg', body);
    s3.fail('media', 'slow/a.jpg', { status: 503, code: 'SlowDown', times: 2 });
    const rescreen = await env.rescreen();
    await rescreen.work();
    const { batch } = await rescreen.enqueue({ lines: [{ ref: 's3://media/slow/a.jpg', check: 'ooto-deepfake' }], name: 'slow' });
    await env.waitForBatch(batch, { timeoutMs: 60_000 });
    const [record] = await env.records(batch);
    expect(record!.status).toBe('completed');
    expect(record!.media![0]!.sha256).toBe(sha(body));
    expect(s3.requests('media', 'slow/a.jpg')).toBe(3);
    expect(sim.callsFor(body)).toHaveLength(1);
  }, 90_000);

  it('--dry-run looks at s3:// objects with HeadObject only (no body read): sizes, empty, wrong type, missing, denied', async () => {
    await s3.putObject('media', 'dry/ok.jpg', photo({ seed: 90 }), 'image/jpeg');
    await s3.putObject('media', 'dry/empty.jpg', Buffer.alloc(0), 'image/jpeg');
    await s3.putObject('media', 'dry/doc.pdf', Buffer.from('%PDF-1.4'), 'application/pdf');
    await s3.putObject('media', 'dry/big.mp4', Buffer.concat([video({ seed: 91 }), Buffer.alloc(6.5 * 1024 * 1024)]), 'video/mp4');
    await s3.putObject('media', 'dry/clip.mp4', video({ seed: 92 }), 'video/mp4');
    s3.fail('media', 'dry/denied.jpg', { status: 403, code: 'AccessDenied' });
    const gets = s3.counts.GET ?? 0;
    const rescreen = await env.rescreen();
    const summary = await rescreen.enqueue(
      {
        lines: [
          { ref: 's3://media/dry/ok.jpg', check: 'ooto-deepfake' },
          { ref: 's3://media/dry/empty.jpg', check: 'ooto-deepfake' },
          { ref: 's3://media/dry/doc.pdf', check: 'ooto-deepfake' },
          { ref: 's3://media/dry/big.mp4', check: 'glair-video' },
          { ref: 's3://media/dry/clip.mp4', check: 'glair-video' },
          { ref: 's3://media/dry/none.jpg', check: 'ooto-deepfake' },
          { ref: 's3://media/dry/denied.jpg', check: 'ooto-deepfake' },
        ],
        name: 'dry',
      },
      { dryRun: true },
    );
    const estimate = summary.estimate!;
    expect(estimate.paidCalls).toBe(2);
    expect(estimate.rejected).toMatchObject({ MEDIA_EMPTY: 1, MEDIA_UNSUPPORTED_TYPE: 1, MEDIA_TOO_LARGE: 1 });
    expect(estimate.failed).toMatchObject({ MEDIA_NOT_FOUND: 1, MEDIA_ACCESS_DENIED: 1 });
    expect(s3.counts.GET ?? 0).toBe(gets); // HEAD only: no body was read
  }, 60_000);

  it('retry of a failed s3:// line later fetches the object again and completes', async () => {
    const rescreen = await env.rescreen();
    await rescreen.work();
    const { batch } = await rescreen.enqueue({ lines: [{ ref: 's3://media/late/a.jpg', check: 'ooto-deepfake' }], name: 'late' });
    await env.waitForBatch(batch, { timeoutMs: 60_000 });
    expect((await env.records(batch))[0]!.error?.code).toBe('MEDIA_NOT_FOUND');
    // Later (nothing in the record expires: the ref is fetched again with the credentials of now).
    const body = photo({ seed: 95 });
    const etag = await s3.putObject('media', 'late/a.jpg', body);
    const retried = await rescreen.retry(batch);
    expect(retried).toMatchObject({ lines: 1 });
    let record = (await env.records(batch))[0];
    for (let waited = 0; record?.status === 'failed' && waited < 60_000; waited += 100) {
      await new Promise((r) => setTimeout(r, 100));
      record = (await env.records(batch))[0];
    }
    expect(record).toMatchObject({ status: 'completed', ref: 's3://media/late/a.jpg', media: [{ sha256: sha(body), etag }] });
    expect(JSON.stringify(record)).not.toContain(s3.env.AWS_SECRET_ACCESS_KEY!);
  }, 90_000);
});
