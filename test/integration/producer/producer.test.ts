import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUILT_INS } from '../../../src/runtime/built-ins.js';
import type { Vendor } from '../../../src/vendors/types.js';
import type { JobPayload, ResultRecord } from '../../../src/checks/types.js';
import { ManifestUnreadableError } from '../../../src/manifest/errors.js';
import { defaultJobOptions, jobId, queueName } from '../../../src/queueing/names.js';
import { enqueueManifest, type EnqueueOptions } from '../../../src/queueing/producer.js';
import { RedisResultStore } from '../../../src/store/redis-result-store.js';
import { dropPrefix, freshPrefix, redisClient } from '../../helpers/redis.js';

let redis: Redis;
let prefix: string;
let dir: string;
let queues: Record<Vendor, Queue>;
let store: RedisResultStore;

beforeEach(async () => {
  redis = redisClient();
  prefix = freshPrefix('producer');
  dir = await mkdtemp(join(tmpdir(), 'rescreen-producer-'));
  const opts = { connection: redis, prefix, defaultJobOptions: defaultJobOptions({ attempts: 3, backoffMs: 1000 }) };
  queues = { ooto: new Queue(queueName('ooto'), opts), glair: new Queue(queueName('glair'), opts) };
  await Promise.all(Object.values(queues).map((q) => q.waitUntilReady()));
  store = new RedisResultStore(redis, prefix);
});

afterEach(async () => {
  await Promise.all(Object.values(queues).map((q) => q.close()));
  await dropPrefix(redis, prefix);
  await redis.quit();
  await rm(dir, { recursive: true, force: true });
});

async function manifest(name: string, lines: readonly string[]): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, lines.join('\n'));
  return path;
}

function run(path: string, batch: string, extra: Partial<EnqueueOptions> = {}) {
  return enqueueManifest({ manifestPath: path, batch, checks: BUILT_INS.checks, queues, store, ...extra });
}

async function keysUnder(pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0');
  return keys.sort();
}

const MIXED = [
  '{"ref": "media/a.jpg", "check": "ooto-deepfake", "subject": "cust-123"}',
  '{"ref": "https://bucket.example/b.png", "check": "ooto-identify", "subject": "cust-9", "options": {"checkLiveness": true, "checkDeepfake": true}}',
  '',
  '{"ref": "videos/c.mp4", "check": "glair-video", "subject": "cust-7"}',
  '{"frames": ["f/1.jpg", "f/2.jpg"], "check": "glair-frames", "subject": 8}',
  'this is not json',
  '{"ref": "media/d.jpg", "check": "ooto-magic", "subject": "cust-1"}',
  '{"check": "glair-video", "subject": "cust-2"}',
  '{"ref": "media/e.jpg", "check": "ooto-deepfake"}',
];

describe('enqueueManifest', () => {
  it('enqueues a mixed manifest into the right queues with the right names, ids and data', async () => {
    const path = await manifest('mixed.jsonl', MIXED);
    const batch = '2024-05-01T10:00:00+07:00';
    const summary = await run(path, batch);

    expect(summary).toMatchObject({
      batch,
      dryRun: false,
      lines: 8,
      maxLine: 9,
      enqueued: 5,
      alreadyRecorded: 0,
      alreadyQueued: 0,
      invalid: 3,
      byCheck: { 'ooto-deepfake': 2, 'ooto-identify': 1, 'glair-video': 1, 'glair-frames': 1 },
    });
    expect(summary.invalidLines).toEqual([
      { line: 6, reason: expect.stringMatching(/not valid JSON/) },
      { line: 7, reason: expect.stringMatching(/^check must be one of/) },
      { line: 8, reason: 'ref is missing' },
    ]);

    const ooto = await queues.ooto!.getJobs(['waiting', 'prioritized']);
    const glair = await queues.glair!.getJobs(['waiting', 'prioritized']);
    const byId = (jobs: typeof ooto): Record<string, { name: string; data: JobPayload }> =>
      Object.fromEntries(jobs.map((j) => [j.id ?? '', { name: j.name, data: j.data as JobPayload }]));
    expect(byId(ooto)).toEqual({
      [jobId(batch, 1)]: {
        name: 'ooto-deepfake',
        data: { batch, line: 1, check: 'ooto-deepfake', subject: 'cust-123', ref: 'media/a.jpg', baseDir: dir },
      },
      [jobId(batch, 2)]: {
        name: 'ooto-identify',
        data: {
          batch,
          line: 2,
          check: 'ooto-identify',
          subject: 'cust-9',
          ref: 'https://bucket.example/b.png',
          options: { checkLiveness: true, checkDeepfake: true },
          baseDir: dir,
        },
      },
      [jobId(batch, 9)]: {
        name: 'ooto-deepfake',
        data: { batch, line: 9, check: 'ooto-deepfake', subject: null, ref: 'media/e.jpg', baseDir: dir },
      },
    });
    expect(byId(glair)).toEqual({
      [jobId(batch, 4)]: {
        name: 'glair-video',
        data: { batch, line: 4, check: 'glair-video', subject: 'cust-7', ref: 'videos/c.mp4', baseDir: dir },
      },
      [jobId(batch, 5)]: {
        name: 'glair-frames',
        data: { batch, line: 5, check: 'glair-frames', subject: '8', frames: ['f/1.jpg', 'f/2.jpg'], baseDir: dir },
      },
    });
    // The queue's default options apply (attempts, backoff with jitter, removal).
    expect(ooto[0]?.opts).toMatchObject({ attempts: 3, backoff: { type: 'exponential', delay: 1000, jitter: 0.5 }, removeOnComplete: true });

    // Invalid lines are failed records, named by line number.
    const failed = await store.get(batch, 7);
    expect(failed).toEqual<ResultRecord>({
      batch,
      line: 7,
      subject: 'cust-1',
      ref: 'media/d.jpg',
      check: null,
      status: 'failed',
      transactionId: null,
      verdict: null,
      score: null,
      error: { code: 'INVALID_LINE', message: expect.stringMatching(/^check must be one of/) },
      attempts: 0,
      finishedAt: expect.stringMatching(/^\d{4}-/),
      response: null,
    });
    expect((await store.get(batch, 8))?.check).toBe('glair-video');
    expect((await store.get(batch, 6))?.error?.code).toBe('INVALID_LINE');
    expect(await store.has(batch, [1, 2, 4, 5, 9])).toEqual([false, false, false, false, false]);

    expect(await store.summary(batch)).toMatchObject({
      manifest: path,
      producerDone: true,
      total: 8,
      maxLine: 9,
      recorded: 3,
      byStatus: { completed: 0, rejected: 0, failed: 3 },
    });
  });

  it('re-running adds nothing for lines that have a record or a queued job', async () => {
    const path = await manifest('rerun.jsonl', MIXED);
    const first = await run(path, 'rerun');
    expect(first.enqueued).toBe(5);

    // Jobs still queued: nothing new.
    const second = await run(path, 'rerun');
    expect(second).toMatchObject({ lines: 8, enqueued: 0, alreadyQueued: 5, alreadyRecorded: 3, invalid: 3 });
    expect(await queues.ooto!.count()).toBe(3);
    expect(await queues.glair!.count()).toBe(2);

    // A worker finished lines 1 and 4 (record written, job removed); line 2's job got lost.
    const done = (line: number): ResultRecord => ({
      batch: 'rerun',
      line,
      subject: null,
      check: 'ooto-deepfake',
      status: 'completed',
      transactionId: `tx-${line}`,
      verdict: 'genuine',
      score: 0.9,
      error: null,
      attempts: 1,
      finishedAt: new Date().toISOString(),
      response: {},
    });
    await store.putMany([done(1), done(4)]);
    for (const line of [1, 2]) await queues.ooto!.remove(jobId('rerun', line));
    await queues.glair!.remove(jobId('rerun', 4));
    const invalidBefore = await store.get('rerun', 6);

    const third = await run(path, 'rerun');
    expect(third).toMatchObject({ lines: 8, enqueued: 1, alreadyQueued: 2, alreadyRecorded: 5, invalid: 3 });
    expect((await queues.ooto!.getJobs(['waiting', 'prioritized'])).map((j) => j.id).sort()).toEqual([jobId('rerun', 2), jobId('rerun', 9)].sort());
    expect(await store.get('rerun', 6)).toEqual(invalidBefore);
    expect((await store.summary('rerun'))?.recorded).toBe(5);
  });

  it('a dry run validates and counts, and writes nothing at all', async () => {
    const path = await manifest('dry.jsonl', MIXED);
    const before = await keysUnder(`${prefix}:*`);
    const summary = await run(path, 'dry', { dryRun: true });
    expect(summary).toMatchObject({ dryRun: true, lines: 8, enqueued: 0, invalid: 3, byCheck: { 'ooto-deepfake': 2 } });
    expect(summary.invalidLines.map((l) => l.line)).toEqual([6, 7, 8]);
    expect(await keysUnder(`${prefix}:*`)).toEqual(before);
  });

  it('reads CSV, fills in --check for lines without one, and keeps a line its own check', async () => {
    const path = await manifest('m.csv', ['ref,check,subject', 'a.mp4,,s1', 'b.jpg,ooto-deepfake,s2', 'c.mp4,,', ',,s4']);
    const summary = await run(path, 'csv', { checkOverride: 'glair-video', chunkSize: 2 });
    expect(summary).toMatchObject({ lines: 4, enqueued: 3, invalid: 1, byCheck: { 'glair-video': 2, 'ooto-deepfake': 1 } });
    expect(summary.invalidLines).toEqual([{ line: 5, reason: 'ref is missing' }]);
    expect((await queues.glair!.getJobs(['waiting', 'prioritized'])).map((j) => [j.id, j.name]).sort()).toEqual([
      [jobId('csv', 2), 'glair-video'],
      [jobId('csv', 4), 'glair-video'],
    ]);
    expect((await queues.ooto!.getJobs(['waiting', 'prioritized'])).map((j) => j.name)).toEqual(['ooto-deepfake']);
  });

  it('reports progress per chunk', async () => {
    const lines = Array.from({ length: 25 }, (_, i) => JSON.stringify({ ref: `m/${i}.jpg`, check: 'ooto-deepfake' }));
    const path = await manifest('progress.jsonl', lines);
    const seen: number[] = [];
    await run(path, 'progress', { chunkSize: 10, onProgress: (p) => seen.push(p.enqueued) });
    expect(seen).toEqual([10, 20, 25]);
  });

  it('an unreadable manifest throws ManifestUnreadableError before anything is written', async () => {
    // (A folder is a manifest of its media now: test/integration/folder/.)
    const headless = await manifest('headless.csv', ['a.jpg,ooto-deepfake,s1']);
    const underAFile = join(headless, 'inside.jsonl');
    const before = await keysUnder(`${prefix}:*`);
    for (const path of [join(dir, 'missing.jsonl'), underAFile, headless]) {
      const error: unknown = await run(path, 'nope').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ManifestUnreadableError);
    }
    expect(await keysUnder(`${prefix}:*`)).toEqual(before);
    expect(await store.listBatches()).toEqual([]);
  });

  it('refuses an invalid batch id', async () => {
    const path = await manifest('m.jsonl', MIXED);
    await expect(run(path, 'has space')).rejects.toThrow(/batch id may only hold/);
  });
});
