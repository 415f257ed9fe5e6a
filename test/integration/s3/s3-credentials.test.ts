/**
 * No AWS credentials anywhere (no AWS_* variable, HOME an empty folder: no shared config) stop
 * start-up with exit 2, naming where the SDK's default chain looked, before any vendor call: enqueue
 * of s3:// refs and of a prefix, and `work` while the queues hold s3:// lines.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { photo, startS3Server, type TestS3Server } from '../../../src/testing/index.js';
import { runCli } from '../../helpers/cli.js';
import { createHarness, type Harness } from '../../helpers/pipeline.js';

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
});
