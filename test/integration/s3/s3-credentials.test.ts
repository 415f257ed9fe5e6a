/**
 * No AWS credentials anywhere (no AWS_* variable, HOME an empty folder: no shared config) stop
 * start-up with exit 2, naming where the SDK's default chain looked, before any vendor call: enqueue
 * of s3:// refs and of a prefix, and `work` while the queues hold s3:// lines — and only then: once
 * the lines a `retry` queued again are done, `work` without credentials runs other batches.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { photo, startS3Server, type TestS3Server } from '../../../src/testing/index.js';
import { runCli } from '../../helpers/cli.js';
import { createHarness, type Harness } from '../../helpers/pipeline.js';
import { redisClient } from '../../helpers/redis.js';

let s3: TestS3Server;
let home: string;
let h: Harness | undefined;
beforeAll(async () => {
  s3 = await startS3Server({ buckets: ['media'] });
  await s3.putObject('media', 'p/a.jpg', photo({ seed: 1 }));
  home = await mkdtemp(join(tmpdir(), 'rescreen-nohome-'));
});
afterAll(async () => {
  await s3?.close();
  await rm(home, { recursive: true, force: true });
});
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** The store settings, no AWS_* variable: only what the default chain could find on its own. */
const withoutCredentials = (env: Record<string, string>) => ({
  ...Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('AWS_'))),
  HOME: home,
});

function expectNamedSources(stderr: string): void {
  expect(stderr).toContain('no AWS credentials for s3:// media');
  expect(stderr).toContain('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
  expect(stderr).toContain('~/.aws/credentials');
  expect(stderr).toContain('AWS_WEB_IDENTITY_TOKEN_FILE');
  expect(stderr).toContain('instance role');
  expect(stderr).not.toMatch(/\n\s+at |NodeVersionSupportWarning|node >=22/);
}

describe('missing AWS credentials', () => {
  it('stop enqueue of s3:// refs and of a prefix, and work while s3:// lines are queued: exit 2, no vendor call', async () => {
    h = await createHarness('s3creds');
    const manifest = await h.manifest('m.jsonl', [{ ref: 's3://media/p/a.jpg', check: 'ooto-deepfake' }]);
    const bare = withoutCredentials({ ...h.env, ...s3.env });

    const refs = await runCli(['enqueue', manifest], bare, 120_000);
    expect(refs.code, refs.stderr).toBe(2);
    expectNamedSources(refs.stderr);

    const prefix = await runCli(['enqueue', 's3://media/p/'], bare, 120_000);
    expect(prefix.code, prefix.stderr).toBe(2);
    expectNamedSources(prefix.stderr);
    expect(s3.counts.LIST ?? 0).toBe(0); // refused before listing

    const dry = await runCli(['enqueue', manifest, '--dry-run'], bare, 120_000);
    expect(dry.code, dry.stderr).toBe(2);
    expectNamedSources(dry.stderr);

    // Enqueued with credentials; a worker started without them stops at start-up.
    const queued = await runCli(['enqueue', manifest, '--batch', 'b'], { ...h.env, ...s3.env });
    expect(queued.code, queued.stderr).toBe(0);
    const work = await runCli(['work'], bare, 120_000);
    expect(work.code, work.stderr).toBe(2);
    expectNamedSources(work.stderr);
    expect(work.stderr).toContain('nothing was called');
    expect(h.sim.stats().totalCalls).toBe(0);

    // A manifest without s3:// refs needs no AWS credentials at enqueue.
    await h.file('x.jpg', photo({ seed: 2 }));
    const local = await runCli(['enqueue', await h.manifest('l.jsonl', [{ ref: 'x.jpg', check: 'ooto-deepfake' }])], bare);
    expect(local.code, local.stderr).toBe(0);
  }, 600_000);

  it('after a retried s3:// line is done, work without credentials runs a batch of local files (no false refusal)', async () => {
    h = await createHarness('s3retried');
    const withCredentials = { ...h.env, ...s3.env };
    const bare = withoutCredentials(withCredentials);
    const manifest = await h.manifest('r.jsonl', [{ ref: 's3://media/later/a.jpg', check: 'ooto-deepfake' }]);
    const enqueued = await runCli(['enqueue', manifest, '--batch', 'r'], withCredentials);
    expect(enqueued.code, enqueued.stderr).toBe(0);
    const first = await runCli(['work', '--until-idle'], withCredentials, 120_000);
    expect(first.code, first.stderr).toBe(0);
    const runtime = await h.openRuntime();
    expect((await runtime.store.get('r', 1))?.error?.code).toBe('MEDIA_NOT_FOUND');

    // The object arrives; the failed line is queued again. The batch counts as finished (every
    // line has a record) while the retried line's job waits: work without credentials is refused.
    await s3.putObject('media', 'later/a.jpg', photo({ seed: 3 }));
    const retried = await runCli(['retry', 'r'], withCredentials);
    expect(retried.code, retried.stderr).toBe(0);
    const refused = await runCli(['work', '--until-idle'], bare, 120_000);
    expect(refused.code, refused.stderr).toBe(2);
    expectNamedSources(refused.stderr);
    expect(h.sim.stats().totalCalls).toBe(0);

    const second = await runCli(['work', '--until-idle'], withCredentials, 120_000);
    expect(second.code, second.stderr).toBe(0);
    expect((await runtime.store.get('r', 1))?.status).toBe('completed');

    // Enqueued again (as a cron job would): it adds nothing, every line has a record, but marks r anew.
    const again = await runCli(['enqueue', manifest, '--batch', 'r'], withCredentials);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/enqueued 0/);

    // Nothing of r is queued now: a batch of local files runs without AWS credentials (this was
    // refused with exit 2: the retried batch stayed marked, since it first finished before the retry).
    await h.file('y.jpg', photo({ seed: 4 }));
    const local = await runCli(['enqueue', await h.manifest('y.jsonl', [{ ref: 'y.jpg', check: 'ooto-deepfake' }]), '--batch', 'y'], bare);
    expect(local.code, local.stderr).toBe(0);
    const worked = await runCli(['work', '--until-idle'], bare, 120_000);
    expect(worked.code, worked.stderr).toBe(0);
    expect((await runtime.store.get('y', 1))?.status).toBe('completed');
    const redis = redisClient();
    try {
      expect(await redis.zscore(`${h.prefix}:s3:batches`, 'r')).toBeNull();
      expect(await redis.exists(`${h.prefix}:s3:retried:r`)).toBe(0);
    } finally {
      await redis.quit();
    }
  }, 600_000);
});
