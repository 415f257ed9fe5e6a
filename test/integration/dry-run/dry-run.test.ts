/**
 * Knowing before paying: the dry run's estimate on a mixed manifest, exact numbers, with Redis
 * read (lines already recorded) and not one key written; the CLI prints it.
 */
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ResultRecord } from '../../../src/checks/types.js';
import { createMediaProbe } from '../../../src/media/probe.js';
import { enqueueManifest } from '../../../src/queueing/producer.js';
import type { Runtime } from '../../../src/runtime/runtime.js';
import { sampleJpeg, sampleMp4, samplePng } from '../../../src/simulator/sample-media.js';
import { runCli } from '../../helpers/cli.js';
import { createHarness, type Harness } from '../../helpers/pipeline.js';
import { redisClient } from '../../helpers/redis.js';

let h: Harness;
let redis: Redis;
beforeEach(async () => {
  h = await createHarness('dry-run');
  redis = redisClient();
});
afterEach(async () => {
  await redis.quit();
  await h.close();
});

/**
 * 13 lines: 4 good ones (one per check), an empty file, a GIF, a 7 MB mp4, a missing file, a remote
 * URL, an invalid line, and 3 lines (2 valid, 1 invalid) that will already have a record.
 */
async function mixedManifest(): Promise<string> {
  await h.file('a.jpg', sampleJpeg({ seed: 1 }));
  await h.file('b.png', samplePng({ seed: 2 }));
  await h.file('c.mp4', sampleMp4({ seed: 3 }));
  await h.file('f/1.jpg', sampleJpeg({ seed: 4 }));
  await h.file('f/2.png', samplePng({ seed: 5 }));
  await h.file('empty.jpg', Buffer.alloc(0));
  await h.file('anim.gif', Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1'));
  await h.file('big.mp4', sampleMp4({ seed: 6, padToBytes: 7 * 1024 * 1024 }));
  return h.manifest('mixed.jsonl', [
    { ref: 'a.jpg', check: 'ooto-deepfake', subject: 's1' },
    { ref: 'b.png', check: 'ooto-identify', subject: 's2' },
    { ref: 'c.mp4', check: 'glair-video', subject: 's3' },
    { frames: ['f/1.jpg', 'f/2.png'], check: 'glair-frames', subject: 's4' },
    { ref: 'empty.jpg', check: 'ooto-deepfake', subject: 's5' },
    { ref: 'anim.gif', check: 'ooto-deepfake', subject: 's6' },
    { ref: 'big.mp4', check: 'glair-video', subject: 's7' },
    { ref: 'missing.jpg', check: 'ooto-deepfake', subject: 's8' },
    { ref: 'https://bucket.example/x.png?X-Amz-Signature=secret', check: 'ooto-deepfake', subject: 's9' },
    { ref: 'a.jpg', check: 'ooto-magic', subject: 's10' },
    { ref: 'a.jpg', check: 'ooto-deepfake', subject: 's11' },
    { ref: 'c.mp4', check: 'glair-video', subject: 's12' },
    'not an object',
  ]);
}

function record(batch: string, line: number): ResultRecord {
  return {
    batch,
    line,
    subject: `s${line}`,
    ref: 'earlier',
    check: 'ooto-deepfake',
    status: 'completed',
    transactionId: `tx-${batch}-${line}`,
    verdict: 'genuine',
    score: 0.9,
    error: null,
    attempts: 1,
    finishedAt: '2024-05-01T00:00:00.000Z',
    response: null,
  };
}

/** Every key under the harness prefix with its serialized value: any write shows up here. */
async function snapshot(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${h.prefix}:*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) out.set(key, (await redis.dumpBuffer(key))?.toString('base64') ?? '');
  } while (cursor !== '0');
  return out;
}

async function recordEarlierLines(runtime: Runtime, batch: string): Promise<void> {
  await runtime.store.beginBatch(batch, 'earlier run');
  await runtime.store.putMany([record(batch, 11), record(batch, 12), { ...record(batch, 13), status: 'failed', verdict: null, score: null, error: { code: 'INVALID_LINE', message: 'earlier' } }]);
}

const ZERO_REJECTED = { MEDIA_EMPTY: 0, MEDIA_UNSUPPORTED_TYPE: 0, MEDIA_TOO_LARGE: 0 };
const ZERO_FAILED = { MEDIA_NOT_FOUND: 0, MEDIA_UNREADABLE: 0 };

describe('enqueue --dry-run: knowing before paying', () => {
  it('counts paid calls, local rejections by code, failures, remote refs, recorded lines and time, exactly, writing nothing', async () => {
    const manifest = await mixedManifest();
    const runtime = await h.openRuntime();
    await recordEarlierLines(runtime, 'dry');
    const before = await snapshot();

    const summary = await enqueueManifest({
      manifestPath: manifest,
      batch: 'dry',
      dryRun: true,
      queues: runtime.queues, checks: runtime.checks,
      store: runtime.store,
      probe: createMediaProbe({ photoMaxBytes: runtime.config.photoMaxBytes }),
      rateLimits: { ooto: { max: 2, durationMs: 1_000 }, glair: { max: 30, durationMs: 60_000 } },
      chunkSize: 4,
    });

    expect(summary).toMatchObject({ dryRun: true, lines: 13, enqueued: 0, alreadyRecorded: 3, alreadyQueued: 0, invalid: 2 });
    const estimate = summary.estimate!;
    expect(estimate.checks).toEqual({
      'ooto-deepfake': {
        check: 'ooto-deepfake',
        vendor: 'ooto',
        lines: 5,
        paidCalls: 2,
        remote: 1,
        rejected: { MEDIA_EMPTY: 1, MEDIA_UNSUPPORTED_TYPE: 1, MEDIA_TOO_LARGE: 0 },
        failed: { MEDIA_NOT_FOUND: 1, MEDIA_UNREADABLE: 0 },
      },
      'ooto-identify': { check: 'ooto-identify', vendor: 'ooto', lines: 1, paidCalls: 1, remote: 0, rejected: ZERO_REJECTED, failed: ZERO_FAILED },
      'glair-video': {
        check: 'glair-video',
        vendor: 'glair',
        lines: 2,
        paidCalls: 1,
        remote: 0,
        rejected: { MEDIA_EMPTY: 0, MEDIA_UNSUPPORTED_TYPE: 0, MEDIA_TOO_LARGE: 1 },
        failed: ZERO_FAILED,
      },
      'glair-frames': { check: 'glair-frames', vendor: 'glair', lines: 1, paidCalls: 1, remote: 0, rejected: ZERO_REJECTED, failed: ZERO_FAILED },
    });
    expect(estimate.vendors).toEqual({
      ooto: { vendor: 'ooto', paidCalls: 3, distinctPaidCalls: 3, rateLimit: { max: 2, durationMs: 1_000 }, seconds: 1.5 },
      glair: { vendor: 'glair', paidCalls: 2, distinctPaidCalls: 2, rateLimit: { max: 30, durationMs: 60_000 }, seconds: 4 },
    });
    expect(estimate).toMatchObject({
      paidCalls: 5,
      remote: 1,
      rejected: { MEDIA_EMPTY: 1, MEDIA_UNSUPPORTED_TYPE: 1, MEDIA_TOO_LARGE: 1 },
      failed: { MEDIA_NOT_FOUND: 1, MEDIA_UNREADABLE: 0 },
      invalid: 1,
      alreadyRecorded: 3,
      seconds: 4,
    });

    expect(await snapshot()).toEqual(before);
    expect(await runtime.queues.ooto!.count()).toBe(0);
    expect(await runtime.queues.glair!.count()).toBe(0);
    expect(h.sim.stats().totalCalls).toBe(0);
  });

  it('without rate limits the time is unknown; with no paid call it is zero', async () => {
    const manifest = await mixedManifest();
    const runtime = await h.openRuntime();
    const base = { manifestPath: manifest, dryRun: true, queues: runtime.queues, checks: runtime.checks, store: runtime.store } as const;
    const free = await enqueueManifest({ ...base, batch: 'free', rateLimits: { ooto: { max: 10, durationMs: 1_000 } } });
    // c.mp4 is named twice: 3 paid calls, 2 with --dedupe.
    expect(free.estimate?.vendors.glair).toEqual({ vendor: 'glair', paidCalls: 3, distinctPaidCalls: 2, rateLimit: undefined, seconds: undefined });
    expect(free.estimate?.vendors.ooto).toMatchObject({ paidCalls: 4, seconds: 0.4 });
    expect(free.estimate?.seconds).toBeUndefined();
    expect(free.estimate?.alreadyRecorded).toBe(0);
    expect(free.estimate?.invalid).toBe(2);

    const nothing = await h.manifest('nothing.jsonl', [{ ref: 'empty.jpg', check: 'ooto-deepfake' }]);
    const none = await enqueueManifest({ ...base, manifestPath: nothing, batch: 'none' });
    expect(none.estimate).toMatchObject({ paidCalls: 0, seconds: 0, rejected: { MEDIA_EMPTY: 1 } });
  });

  it('the CLI prints the estimate as tables, and writes nothing', async () => {
    const manifest = await mixedManifest();
    const runtime = await h.openRuntime();
    await recordEarlierLines(runtime, 'cli-dry');
    const before = await snapshot();
    const env = { ...h.env, OOTO_RATE_LIMIT: '2/s' };

    const dry = await runCli(['enqueue', manifest, '--batch', 'cli-dry', '--dry-run'], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toMatch(/^line 10: check must be one of/m);
    expect(dry.stdout).toContain('13 lines: would enqueue 9, already recorded 3, already queued 0, invalid 2');
    expect(dry.stdout).toContain('dry run: nothing was enqueued or written');
    expect(dry.stdout).toMatch(/^check\s+vendor\s+lines\s+paid calls\s+remote\s+rejected locally\s+failed locally$/m);
    expect(dry.stdout).toMatch(/^ooto-deepfake\s+ooto\s+5\s+2\s+1\s+2\s+1$/m);
    expect(dry.stdout).toMatch(/^ooto-identify\s+ooto\s+1\s+1\s+0\s+0\s+0$/m);
    expect(dry.stdout).toMatch(/^glair-video\s+glair\s+2\s+1\s+0\s+1\s+0$/m);
    expect(dry.stdout).toMatch(/^glair-frames\s+glair\s+1\s+1\s+0\s+0\s+0$/m);
    expect(dry.stdout).toMatch(/^ooto\s+3\s+2\/s\s+1\.5 s$/m);
    expect(dry.stdout).toMatch(/^glair\s+2\s+no limit set\s+unknown \(no limit set\)$/m);
    expect(dry.stdout).toContain('rejected locally, no paid call: MEDIA_EMPTY 1, MEDIA_UNSUPPORTED_TYPE 1, MEDIA_TOO_LARGE 1');
    expect(dry.stdout).toContain('would end failed, no paid call: MEDIA_NOT_FOUND 1, MEDIA_UNREADABLE 0, INVALID_LINE 1');
    expect(dry.stdout).toContain('already recorded, skipped: 3');
    expect(dry.stdout).toContain('remote http(s) refs: 1 (not fetched: counted as paid calls');
    expect(dry.stdout).toContain('paid calls: 5 (time unknown');
    expect(dry.stdout + dry.stderr).not.toContain('secret');

    const timed = await runCli(['enqueue', manifest, '--batch', 'cli-dry', '--dry-run'], { ...env, GLAIR_RATE_LIMIT: '1/m' });
    expect(timed.stdout).toMatch(/^glair\s+2\s+1\/m\s+2 min 0 s$/m);
    expect(timed.stdout).toContain('paid calls: 5, about 2 min 0 s at the rate limits');

    expect(await snapshot()).toEqual(before);
  });
  it('applies the host policy to remote refs: refused hosts are no paid call but MEDIA_HOST_REFUSED, as the workers would end them', async () => {
    const manifest = await h.manifest('hosts.jsonl', [
      { ref: 'http://127.0.0.1:9/a.jpg', check: 'ooto-deepfake' },
      { ref: 'http://169.254.169.254/latest/meta-data/iam.jpg', check: 'ooto-deepfake' },
      { ref: 'http://localhost:9/b.jpg', check: 'ooto-identify' }, // a name that resolves to loopback
      { frames: ['http://[::1]:9/1.jpg'], check: 'glair-frames' },
      { ref: 'https://bucket.example/ok.jpg?sig=secret', check: 'ooto-deepfake' }, // not resolvable here: still a paid call
    ]);
    // The harness allows 127.0.0.1 for its media servers; a real configuration does not.
    const env = { ...h.env, RESCREEN_MEDIA_ALLOW_HOSTS: '' };
    const dry = await runCli(['enqueue', manifest, '--batch', 'hosts', '--dry-run'], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('would end failed, no paid call: MEDIA_NOT_FOUND 0, MEDIA_UNREADABLE 0, MEDIA_HOST_REFUSED 4, INVALID_LINE 0');
    expect(dry.stdout).toContain('remote http(s) refs: 1 (not fetched: counted as paid calls');
    expect(dry.stdout).toMatch(/paid calls: 1\b/);
    expect(dry.stdout + dry.stderr).not.toContain('secret');

    // Allowed by the operator: counted as paid calls again.
    const allowed = await runCli(['enqueue', manifest, '--batch', 'hosts', '--dry-run'], { ...env, RESCREEN_MEDIA_ALLOW_PRIVATE: 'true' });
    expect(allowed.stdout).toContain('remote http(s) refs: 5');
    expect(allowed.stdout).not.toContain('MEDIA_HOST_REFUSED');
  });
});
