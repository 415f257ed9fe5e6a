/**
 * Issue 18 acceptance: `retry` of a failed s3:// line a day later fetches the object again, with the
 * credentials of that day, and completes; nothing in any record, the attempt log, the export, Redis
 * or any log line of any process the test ran holds a credential.
 *
 * Every step is a `rescreen` process (LOG_LEVEL=trace: the most it ever logs). Day 0 runs on the
 * test's clock; day 1 processes start with their clock a day ahead (libfaketime, test/helpers/cli.ts
 * clockAt), and so does the S3 server's (it refuses a signature more than 15 minutes off its own
 * clock): the SigV4 signature of the second fetch is made a day after the first. Each day has its
 * own session token (AWS_SESSION_TOKEN, sent as x-amz-security-token; s3rver ignores it): the
 * second fetch carries day 1's, so the credentials were looked up again, not kept.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { photo, S3RVER_ACCESS_KEY, startS3Server, type TestS3Server } from '../../../src/testing/index.js';
import { clockAt, haveLibfaketime, runCli, type CliRun } from '../../helpers/cli.js';
import { createHarness, sha256, type Harness } from '../../helpers/pipeline.js';
import { redisClient } from '../../helpers/redis.js';

const DAY = 86_400_000;
const REF = 's3://media/late/a.jpg';

let s3: TestS3Server;
let h: Harness;
let out: string;
beforeAll(async () => {
  s3 = await startS3Server({ buckets: ['media'] });
  h = await createHarness('s3later');
  out = await mkdtemp(join(tmpdir(), 'rescreen-s3later-'));
});
afterEach(() => {
  vi.useRealTimers();
});
afterAll(async () => {
  await h?.close();
  await s3?.close();
  if (out) await rm(out, { recursive: true, force: true });
});

/** Every value under the prefix, as text: BullMQ's jobs and events, the store, the marks. */
async function redisText(prefix: string): Promise<string> {
  const redis = redisClient();
  try {
    const parts: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const type = await redis.type(key);
        const value =
          type === 'string' ? await redis.get(key)
          : type === 'hash' ? await redis.hgetall(key)
          : type === 'list' ? await redis.lrange(key, 0, -1)
          : type === 'set' ? await redis.smembers(key)
          : type === 'zset' ? await redis.zrange(key, 0, -1, 'WITHSCORES')
          : type === 'stream' ? await redis.xrange(key, '-', '+')
          : null;
        parts.push(key, JSON.stringify(value));
      }
    } while (cursor !== '0');
    return parts.join('\n');
  } finally {
    await redis.quit();
  }
}

async function folderText(dir: string): Promise<string> {
  const names = await readdir(dir);
  expect(names).toEqual(expect.arrayContaining(['records.jsonl', 'attempts.jsonl', 'summary.json', 'manifest.json']));
  return (await Promise.all(names.map((n) => readFile(join(dir, n), 'utf8')))).join('\n');
}

describe('retry of an s3:// line a day later', () => {
  it('fetches the object again with the credentials of that day and completes; no credential anywhere', async () => {
    expect(haveLibfaketime(), 'libfaketime runs the day-1 processes: apt-get install faketime (.ci/run does)').toBe(true);
    const tokens = [`day0-token-${randomBytes(12).toString('hex')}`, `day1-token-${randomBytes(12).toString('hex')}`] as const;
    const base = { ...h.env, ...s3.env, LOG_LEVEL: 'trace' };
    const day0 = { ...base, AWS_SESSION_TOKEN: tokens[0] };
    const runs: CliRun[] = [];
    const run = async (args: string[], env: Record<string, string>, expected = 0): Promise<CliRun> => {
      const result = await runCli(args, env, 120_000);
      runs.push(result);
      expect(result.code, `${args.join(' ')}: ${result.stderr.slice(-2000)}`).toBe(expected);
      return result;
    };

    // Day 0: the object is not there yet: the line fails, MEDIA_NOT_FOUND, with no vendor call.
    const manifest = await h.manifest('late.jsonl', [{ ref: REF, check: 'ooto-deepfake', subject: 'u1' }]);
    await run(['enqueue', manifest, '--batch', 'late'], day0);
    await run(['work', '--until-idle'], day0);
    const runtime = await h.openRuntime();
    const failed = await runtime.store.get('late', 1);
    expect([failed?.status, failed?.error?.code]).toEqual(['failed', 'MEDIA_NOT_FOUND']);
    expect(h.sim.stats().totalCalls).toBe(0);
    const [first] = s3.reads('media', 'late/a.jpg');
    expect(first).toMatchObject({ method: 'GET', accessKeyId: S3RVER_ACCESS_KEY, sessionToken: tokens[0] });
    expect(Math.abs(first!.signedAt!.getTime() - Date.now())).toBeLessThan(15 * 60_000);

    // The object is put; a day later (this process's clock and so the S3 server's, and every process started now).
    const body = photo({ seed: 18 });
    const etag = await s3.putObject('media', 'late/a.jpg', body);
    const later = Date.now() + DAY;
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    vi.setSystemTime(later);
    const day1 = { ...base, ...clockAt(later), AWS_SESSION_TOKEN: tokens[1] };
    const retried = await run(['retry', 'late'], day1);
    expect(retried.stdout).toMatch(/\b1\b/);
    await run(['work', '--until-idle'], day1);

    const record = await runtime.store.get('late', 1);
    expect(record).toMatchObject({ status: 'completed', ref: REF, media: [{ sha256: sha256(body), etag }] });
    // Written by the day-1 worker: its clock did move a day.
    expect(Date.parse(record!.finishedAt) - Date.parse(failed!.finishedAt)).toBeGreaterThan(DAY - 10 * 60_000);
    expect(h.sim.stats().totalCalls).toBe(1);
    const reads = s3.reads('media', 'late/a.jpg');
    expect(reads.map((r) => r.method)).toEqual(['GET', 'GET']);
    // A fresh signature, made a day after the first, with day 1's token: nothing of day 0 was kept.
    expect(reads[1]!.signedAt!.getTime() - first!.signedAt!.getTime()).toBeGreaterThan(DAY - 10 * 60_000);
    expect(reads[1]!.sessionToken).toBe(tokens[1]);

    await run(['export', 'late', '--out', join(out, 'late'), '--unsigned'], day1);

    // Everything kept, exported and logged: no secret, no session token, not even the key id.
    const records: unknown[] = [];
    for await (const r of runtime.store.stream('late')) records.push(r);
    const attempts: unknown[] = [];
    for await (const a of runtime.store.streamAttempts('late')) attempts.push(a);
    expect(attempts).toHaveLength(1);
    const logs = runs.map((r) => `${r.stdout}\n${r.stderr}`).join('\n');
    // The logs are there to read: each worker logged its record, the day-1 one a day later by its clock.
    const stored = logs
      .split('\n')
      .filter((l) => l.startsWith('{"level"'))
      .map((l) => JSON.parse(l) as { msg: string; time: string; status?: string })
      .filter((l) => l.msg === 'record stored');
    expect(stored.map((l) => l.status)).toEqual(['failed', 'completed']);
    expect(Date.parse(stored[1]!.time) - Date.parse(stored[0]!.time)).toBeGreaterThan(DAY - 10 * 60_000);
    const everything: Record<string, string> = {
      // The day-0 record too (the retry replaced it): its error message came from the store's answer.
      records: JSON.stringify([failed, ...records]),
      attempts: JSON.stringify(attempts),
      logs,
      export: await folderText(join(out, 'late')),
      redis: await redisText(h.prefix),
    };
    const secrets = [s3.env.AWS_SECRET_ACCESS_KEY!, s3.env.AWS_ACCESS_KEY_ID!, ...tokens];
    for (const [where, text] of Object.entries(everything)) {
      for (const secret of secrets) expect(text.includes(secret), `${where} holds ${secret}`).toBe(false);
    }
  }, 600_000);
});
