/**
 * The programmatic API (`import { createRescreen } from 'rescreen'`) over a real Redis and the
 * simulator: lines given in code (an async iterable), every line one record, status, records,
 * retry of a spooled batch, errors of the taxonomy, close.
 */
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createRescreen, InvalidInputError, NotFoundError, type Rescreen } from '../../../src/api/index.js';
import { createTestEnv, outcomesByLine, photo, startSimulator, type TestEnv, type TestSimulator } from '../../../src/testing/index.js';
import { redisUrl } from '../../helpers/redis.js';

let sim: TestSimulator | undefined;
let env: TestEnv | undefined;
afterEach(async () => {
  await env?.cleanup();
  await sim?.close();
  env = undefined;
  sim = undefined;
});

async function* slowly<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) {
    await new Promise((r) => setTimeout(r, 1));
    yield item;
  }
}

describe('createRescreen', () => {
  it('enqueues lines from an async iterable (one record each, invalid ones included), streams records, retries a spooled batch', async () => {
    sim = await startSimulator();
    env = await createTestEnv({ simulator: sim, redisUrl: redisUrl(), label: 'api' });
    await env.file('a.jpg', photo({ seed: 1 }));
    const rescreen: Rescreen = await createRescreen({ env: env.env });
    try {
      const workers = await rescreen.work({ concurrency: 4 });
      expect([...workers.vendors].sort()).toEqual(['glair', 'ooto']);
      const summary = await rescreen.enqueue(
        {
          lines: slowly([
            { ref: 'a.jpg', check: 'ooto-deepfake', subject: 's1' },
            'not json',
            '',
            '{"ref": "b.jpg",\n "check": "ooto-deepfake"}', // a line break inside one line: still one line (b.jpg does not exist)
            { ref: 'later.jpg', check: 'ooto-deepfake' },
          ]),
          baseDir: env.dir,
          name: 'from-code',
        },
        {},
      );
      expect(summary.batch).toMatch(/^from-code-[0-9a-f]+$/);
      expect(summary).toMatchObject({ lines: 4, enqueued: 3, invalid: 1 });
      await rescreen.waitForBatch(summary.batch, { timeoutMs: 30_000 });
      const records = [];
      for await (const r of rescreen.records(summary.batch)) records.push(r);
      expect(outcomesByLine(records)).toEqual({ 1: 'genuine', 2: 'failed:INVALID_LINE', 4: 'failed:MEDIA_NOT_FOUND', 5: 'failed:MEDIA_NOT_FOUND' });
      const status = await rescreen.status(summary.batch);
      expect(status.finished).toBe(true);
      expect(status.summary.manifest?.startsWith(env.dir)).toBe(true);
      expect((await rescreen.batches()).map((b) => b.batch)).toEqual([summary.batch]);
      expect((await rescreen.record(records[0]!.transactionId!)).line).toBe(1);
      expect((await rescreen.subject('s1')).map((r) => r.line)).toEqual([1]);

      // The spool is gone, but retry finds the media in baseDir.
      await env.file('later.jpg', photo({ seed: 2, outcome: 'deepfake' }));
      const retried = await rescreen.retry(summary.batch);
      expect(retried).toMatchObject({ requeued: 2, invalid: 1 });
      await new Promise<void>((resolve, reject) => {
        const deadline = Date.now() + 30_000;
        const poll = async (): Promise<void> => {
          for await (const r of rescreen.records(summary.batch, { status: 'completed' })) if (r.line === 5) return resolve();
          if (Date.now() > deadline) return reject(new Error('retry did not land'));
          setTimeout(() => void poll(), 100);
        };
        void poll();
      });
      await rm(env.dir + '/later.jpg');
    } finally {
      await rescreen.close();
      await rescreen.close(); // idempotent
    }
  });

  it('speaks the error taxonomy: NotFoundError for an unknown batch, InvalidInputError for a bad id or manifest', async () => {
    env = await createTestEnv({ redisUrl: redisUrl(), label: 'api' });
    const rescreen = await createRescreen({ env: env.env });
    try {
      await expect(rescreen.status('no-such-batch')).rejects.toBeInstanceOf(NotFoundError);
      const iterate = async () => {
        for await (const _ of rescreen.records('no-such-batch')) void _;
      };
      await expect(iterate()).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(rescreen.enqueue('/nonexistent/manifest.jsonl')).rejects.toBeInstanceOf(InvalidInputError);
      await expect(rescreen.enqueue({ lines: [] }, { batch: 'bad\nid' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    } finally {
      await rescreen.close();
    }
  });

  it('run() stops with the AuthenticationError when a vendor the batch needs refuses the credentials (jobs stay queued)', async () => {
    sim = await startSimulator();
    env = await createTestEnv({ simulator: sim, redisUrl: redisUrl(), label: 'api', env: { OOTO_APP_KEY: 'not-the-key' } });
    await env.file('a.jpg', photo({ seed: 3 }));
    const rescreen = await env.rescreen();
    const started = Date.now();
    const error: unknown = await rescreen.run({ lines: [{ ref: 'a.jpg', check: 'ooto-deepfake' }], baseDir: env.dir }, { timeoutMs: 20_000 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'AuthenticationError', vendor: 'ooto', status: 401 });
    expect(Date.now() - started).toBeLessThan(15_000); // it did not wait out the timeout
    expect(JSON.stringify(error)).not.toContain('not-the-key');
    const { batch } = await rescreen.enqueue({ lines: [{ ref: 'a.jpg', check: 'ooto-deepfake' }], baseDir: env.dir }, { dryRun: true });
    expect((await rescreen.status(batch)).pending.ooto).toBe(1);
  });

  it('fails fast with REDIS_UNAVAILABLE when Redis does not answer', async () => {
    await expect(createRescreen({ env: { REDIS_URL: 'redis://127.0.0.1:1' } })).rejects.toMatchObject({ code: 'REDIS_UNAVAILABLE' });
  });
});
