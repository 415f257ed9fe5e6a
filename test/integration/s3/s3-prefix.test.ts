/**
 * A bucket prefix as a manifest (`rescreen enqueue s3://bucket/prefix/`), against a real S3-protocol
 * server on loopback (s3rver) with the real AWS SDK: 20,000 objects stream with the producer under
 * 300 MB RSS; a producer killed (SIGKILL) mid-listing resumes from its cursor and every object is
 * queued exactly once; subjects follow the folder rule; a dry run looks at the prefix with HEADs.
 */
import { readFile } from 'node:fs/promises';
import type { Job } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startS3Server, type TestS3Server } from '../../../src/testing/index.js';
import { runCli, startCli } from '../../helpers/cli.js';
import { createHarness, eventually, type Harness } from '../../helpers/pipeline.js';
import { redisClient } from '../../helpers/redis.js';

const N = 20_000;
const TINY_JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 0xff, 0xd9]);
const keyOf = (i: number) => `onboarding/2024/u${String(i).padStart(5, '0')}/selfie.jpg`;

let s3: TestS3Server;
let h: Harness | undefined;
beforeAll(async () => {
  s3 = await startS3Server({ buckets: ['media', 'small'] });
  await s3.putObjects('media', Array.from({ length: N }, (_, i) => ({ key: keyOf(i), body: TINY_JPEG })), 64);
  // Not lines: a text file and an empty object (the folder rule), a "folder" marker.
  await s3.putObject('media', 'onboarding/2024/notes.txt', 'hello');
  await s3.putObject('media', 'onboarding/2024/empty.jpg', Buffer.alloc(0));
  await s3.putObject('media', 'onboarding/2024/dir/', Buffer.alloc(0));
  await s3.putObject('media', 'elsewhere/x.jpg', TINY_JPEG);
}, 600_000);
afterAll(async () => {
  await s3?.close();
});
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Peak RSS (VmHWM, kB) of a running process, read until it exits. */
function watchPeakRss(pid: number): { stop(): number } {
  let peak = 0;
  const timer = setInterval(() => {
    readFile(`/proc/${pid}/status`, 'utf8').then(
      (status) => (peak = Math.max(peak, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0))),
      () => undefined,
    );
  }, 25);
  return {
    stop: () => {
      clearInterval(timer);
      return peak;
    },
  };
}

async function jobsOf(h: Harness): Promise<Job[]> {
  const runtime = await h.openRuntime();
  const jobs: Job[] = [];
  for (const queue of Object.values(runtime.queues)) jobs.push(...(await queue.getJobs(['waiting', 'prioritized', 'delayed', 'active'])));
  return jobs;
}

describe('a bucket prefix as a manifest', () => {
  it('20,000 objects stream under 300 MB RSS; killed mid-listing, the re-run resumes from its cursor and queues each object once', async () => {
    h = await createHarness('s3prefix');
    const manifest = 's3://media/onboarding/2024/';
    // No worker: the window (5,000 waiting) holds the first producer mid-listing.
    const env = { ...h.env, ...s3.env, RESCREEN_MAX_QUEUED: '5000', LOG_LEVEL: 'info' };
    const redis = redisClient();
    try {
      const victim = startCli(['enqueue', manifest, '--check', 'ooto-deepfake', '--batch', 'pre'], env);
      const victimRss = watchPeakRss(victim.pid!);
      const cursorKey = `${h.prefix}:producer:pre`;
      await eventually(() => redis.hget(cursorKey, 'line'), (line) => Number(line ?? 0) >= 4_000, 300_000);
      victim.kill('SIGKILL');
      await new Promise((r) => victim.once('close', r));
      const killedRss = victimRss.stop();
      const at = Number(await redis.hget(cursorKey, 'line'));
      expect(at).toBeGreaterThanOrEqual(4_000);
      expect(at).toBeLessThan(N);
      expect(await redis.hget(cursorKey, 'after')).toBe(keyOf(at - 1));
      expect(await redis.hget(cursorKey, 'done')).toBe('0');

      // The same command again (a window wide enough to finish): it lists once to fingerprint the
      // prefix, then resumes after the cursor's key instead of listing from the start.
      const lists = s3.counts.LIST ?? 0;
      const again = startCli(['enqueue', manifest, '--check', 'ooto-deepfake', '--batch', 'pre'], { ...env, RESCREEN_MAX_QUEUED: '100000' });
      const rss = watchPeakRss(again.pid!);
      const code = await new Promise<number | null>((r) => again.once('close', r));
      const peakKb = rss.stop();
      const out = again.output();
      expect(code, out.stderr).toBe(0);
      expect(out.stdout).toContain(`${N} lines: enqueued ${N - at}, already recorded 0, already queued ${at}, invalid 0 (ooto-deepfake ${N})`);
      const pages = Math.ceil((N + 3) / 1000);
      const listed = (s3.counts.LIST ?? 0) - lists;
      expect(listed).toBeLessThanOrEqual(pages + Math.ceil((N - at) / 1000) + 1);
      expect(listed).toBeLessThan(2 * pages);
      console.log(`prefix manifest of ${N} objects: producer peak RSS ${Math.round(peakKb / 1024)} MB (killed run ${Math.round(killedRss / 1024)} MB)`);
      expect(peakKb).toBeGreaterThan(0);
      expect(peakKb).toBeLessThan(300 * 1024);
      expect(killedRss).toBeLessThan(300 * 1024);
      expect(await redis.hget(cursorKey, 'done')).toBe('1');

      // Every object queued exactly once, on the line its key order gives it, subject by the folder rule.
      const jobs = await jobsOf(h);
      expect(jobs).toHaveLength(N);
      const refs = new Map<string, number>();
      for (const job of jobs) {
        const data = job.data as { ref: string; line: number; subject: string };
        refs.set(data.ref, (refs.get(data.ref) ?? 0) + 1);
        expect(data.ref).toBe(`s3://media/${keyOf(data.line - 1)}`);
        expect(data.subject).toBe(`u${String(data.line - 1).padStart(5, '0')}/selfie`);
      }
      expect(refs.size).toBe(N);
      expect([...refs.values()].every((n) => n === 1)).toBe(true);

      // Once more: nothing new (the finished pass lists again, every line is queued already).
      const third = await runCli(['enqueue', manifest, '--check', 'ooto-deepfake', '--batch', 'pre'], { ...env, RESCREEN_MAX_QUEUED: '100000' }, 300_000);
      expect(third.code, third.stderr).toBe(0);
      expect(third.stdout).toContain(`${N} lines: enqueued 0`);
      expect(await jobsOf(h)).toHaveLength(N);
    } finally {
      await redis.quit();
    }
  }, 900_000);

  it('a prefix: folder-rule subjects, skipped objects counted, a default batch id from the listing, a dry run by HEAD only, bad prefixes refused', async () => {
    h = await createHarness('s3small');
    const env = { ...h.env, ...s3.env, RESCREEN_S3_ALLOW_BUCKETS: 'small' };
    await s3.putObject('small', 'in/a/one.jpg', TINY_JPEG, 'image/jpeg');
    await s3.putObject('small', 'in/b/two.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]), 'image/png');
    await s3.putObject('small', 'in/readme.md', '# not media');
    await s3.putObject('small', 'in/bad name.jpg', TINY_JPEG);

    const heads = s3.counts.HEAD ?? 0;
    const gets = s3.counts.GET ?? 0;
    const dry = await runCli(['enqueue', 's3://small/in/', '--check', 'ooto-deepfake', '--dry-run'], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/3 lines: would enqueue 2, .*invalid 1/);
    expect(dry.stdout).toContain('skipped 1 file that is not JPEG/PNG/mp4');
    expect((s3.counts.HEAD ?? 0) - heads).toBe(2);
    expect(s3.counts.GET ?? 0).toBe(gets); // no body read (listings are counted apart)

    const run = await runCli(['enqueue', 's3://small/in/', '--check', 'ooto-deepfake'], env);
    expect(run.code, run.stderr).toBe(0);
    const batch = /batch (\S+)/.exec(run.stdout)![1]!;
    expect(batch).toMatch(/^small-in-[0-9a-f]{12}$/);
    expect(run.stderr).toMatch(/line 3: "s3:\/\/small\/in\/bad name.jpg" has spaces/);
    const jobs = await jobsOf(h);
    expect(jobs.map((j) => (j.data as { subject: string; ref: string }).ref).sort()).toEqual(['s3://small/in/a/one.jpg', 's3://small/in/b/two.png']);
    expect(jobs.map((j) => (j.data as { subject: string }).subject).sort()).toEqual(['a/one', 'b/two']);
    // The same prefix again: the same batch, nothing added.
    const again = await runCli(['enqueue', 's3://small/in/', '--check', 'ooto-deepfake'], env);
    expect(again.stdout).toContain(`batch ${batch}\n3 lines: enqueued 0`);

    const notPrefix = await runCli(['enqueue', 's3://small/in/a/one.jpg'], env);
    expect(notPrefix.code).toBe(2);
    expect(notPrefix.stderr).toContain('names an object, not a prefix: end it with /');
    const refused = await runCli(['enqueue', 's3://media/onboarding/'], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/bucket media is not in RESCREEN_S3_ALLOW_BUCKETS/);
    for (const r of [dry, run, notPrefix, refused]) expect(r.stderr).not.toMatch(/NodeDeprecationWarning|Node\.js 22|\n\s+at /);
  }, 300_000);
});
