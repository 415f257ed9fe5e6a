/**
 * Redis bounded whatever the backlog: the producer keeps at most RESCREEN_MAX_QUEUED jobs waiting,
 * feeds the rest as workers drain them, resumes from its cursor after a SIGKILL, and refuses a
 * manifest that changed under an unfinished batch. With the PostgreSQL store, a finished batch
 * leaves nothing of its lines in Redis.
 */
import { writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { enqueueManifest } from '../../../src/queueing/producer.js';
import { queuedJobs } from '../../../src/queueing/producer-window.js';
import { startWorkers } from '../../../src/runtime/runtime.js';
import { runCli, startCli } from '../../helpers/cli.js';
import { createHarness, eventually, type Harness } from '../../helpers/pipeline.js';
import { redisClient } from '../../helpers/redis.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Lines whose media is missing: each ends `failed` (MEDIA_NOT_FOUND) at once, with no vendor call. */
const missing = (n: number) => Array.from({ length: n }, (_, i) => ({ ref: `nope-${i}.jpg`, check: 'ooto-deepfake', subject: `s${i}` }));

describe('the producer window (RESCREEN_MAX_QUEUED)', () => {
  it('never has more than the window waiting, and feeds the rest as workers drain it', async () => {
    h = await createHarness('window', {}, {}, { store: 'postgres' });
    const runtime = await h.openRuntime();
    const manifest = await h.manifest('m.jsonl', missing(400));
    const queues = Object.values(runtime.queues);
    let most = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        most = Math.max(most, await queuedJobs(queues));
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    let done = false;
    const enqueue = enqueueManifest({ manifestPath: manifest, batch: 'win', checks: runtime.checks, queues: runtime.queues, store: runtime.store, chunkSize: 10, maxInFlight: 2, maxQueued: 40 }).then((s) => {
      done = true;
      return s;
    });
    // No worker yet: the producer waits at the window.
    await new Promise((r) => setTimeout(r, 800));
    expect(done).toBe(false);
    expect(await queuedJobs(queues)).toBeLessThanOrEqual(40);
    const workers = startWorkers(runtime);
    try {
      const summary = await enqueue;
      expect(summary).toMatchObject({ lines: 400, enqueued: 400 });
      await eventually(() => runtime.store.summary('win'), (s) => s?.finishedAt !== null && s?.recorded === 400);
    } finally {
      sampling = false;
      await sampler;
      await workers.close();
    }
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(40);
    // PostgreSQL store: the batch's lines left nothing in Redis (no job, no record, no call counter).
    const redis = redisClient();
    try {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, found] = await redis.scan(cursor, 'MATCH', `${h.prefix}:*`, 'COUNT', 1000);
        cursor = next;
        keys.push(...found);
      } while (cursor !== '0');
      expect(keys.filter((k) => k.includes(':store:') || /#\d+$/.test(k))).toEqual([]);
      expect(keys.length).toBeLessThan(20);
    } finally {
      await redis.quit();
    }
  });

  it('a producer killed mid-way resumes from its cursor; a changed manifest is refused until then', async () => {
    h = await createHarness('cursor');
    const manifest = await h.manifest('m.jsonl', missing(300));
    const env = { ...h.env, RESCREEN_MAX_QUEUED: '50' };
    const runtime = await h.openRuntime();
    const cursorKey = `${h.prefix}:producer:cur`;
    const redis = redisClient();
    try {
      const victim = startCli(['enqueue', manifest, '--batch', 'cur'], env);
      // The producer fills its window, then waits: its cursor has moved but not to the end.
      await eventually(() => redis.hget(cursorKey, 'line'), (line) => Number(line ?? 0) > 0, 30_000);
      victim.kill('SIGKILL');
      await new Promise((r) => victim.once('close', r));
      const at = Number(await redis.hget(cursorKey, 'line'));
      expect(at).toBeGreaterThan(0);
      expect(at).toBeLessThan(300);
      expect(await redis.hget(cursorKey, 'done')).toBe('0');

      // The manifest changes under the unfinished batch: refused with the way out, nothing written.
      await writeFile(`${h.dir}/changed.jsonl`, missing(301).map((l) => JSON.stringify(l)).join('\n'));
      const changed = await runCli(['enqueue', `${h.dir}/changed.jsonl`, '--batch', 'cur'], env);
      expect(changed.code).toBe(2);
      expect(changed.stderr).toMatch(/batch cur was being enqueued from a manifest with other content.*new --batch id/);
      expect(changed.stderr).not.toMatch(/\n\s+at /);

      // The same manifest resumes after the cursor, with workers draining it.
      const workers = startWorkers(runtime);
      try {
        const resumed = await runCli(['enqueue', manifest, '--batch', 'cur'], env);
        expect(resumed.code, resumed.stderr).toBe(0);
        await eventually(() => runtime.store.summary('cur'), (s) => s?.recorded === 300 && s.finishedAt !== null);
      } finally {
        await workers.close();
      }
      expect(await redis.hget(cursorKey, 'done')).toBe('1');
      const records = [];
      for await (const r of runtime.store.stream('cur')) records.push(r.line);
      expect(records).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    } finally {
      await redis.quit();
    }
  });
});
