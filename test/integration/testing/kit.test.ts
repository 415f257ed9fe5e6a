/**
 * rescreen/testing as a user's test uses it: the scripted simulator (outcomes by sha256 and by
 * marker, 429 with and without Retry-After, 5xx, latency, the call log), createTestEnv's prefix and
 * cleanup (nothing left behind, CLI runs and `rescreen demo` included), waitForBatch's timeout.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { WaitTimeoutError } from '../../../src/errors/errors.js';
import {
  assertOneRecordPerLine,
  countOutcomes,
  createTestEnv,
  outcomesByLine,
  photo,
  recordMatchers,
  sha256Of,
  startSimulator,
  video,
  type TestEnv,
  type TestSimulator,
} from '../../../src/testing/index.js';
import { runCli } from '../../helpers/cli.js';
import { pgUrl, schemaExists } from '../../helpers/postgres.js';
import { redisUrl } from '../../helpers/redis.js';

const open: { sims: TestSimulator[]; envs: TestEnv[] } = { sims: [], envs: [] };
afterEach(async () => {
  await Promise.all(open.envs.splice(0).map((e) => e.cleanup()));
  await Promise.all(open.sims.splice(0).map((s) => s.close()));
});

async function setUp(options: Parameters<typeof startSimulator>[0] = {}): Promise<{ sim: TestSimulator; env: TestEnv }> {
  const sim = await startSimulator(options);
  open.sims.push(sim);
  const env = await createTestEnv({ simulator: sim, redisUrl: redisUrl(), label: 'kit' });
  open.envs.push(env);
  return { sim, env };
}

/** POSTs a photo to the simulator's OOTO deepfake endpoint as the OOTO client does. */
async function postPhoto(sim: TestSimulator, bytes: Buffer): Promise<Response> {
  const form = new FormData();
  form.append('photo', new Blob([bytes], { type: 'image/jpeg' }), 'p.jpg');
  return fetch(`${sim.url}/api/v1.0/deepfake`, { method: 'POST', body: form, headers: { 'APP-ID': sim.env.OOTO_APP_ID!, 'APP-KEY': sim.env.OOTO_APP_KEY! } });
}

async function scanCount(pattern: string): Promise<number> {
  const client = new Redis(redisUrl());
  let cursor = '0';
  let n = 0;
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    n += keys.length;
  } while (cursor !== '0');
  await client.quit();
  return n;
}

describe('rescreen/testing', () => {
  it('scripts outcomes by sha256 (over the marker in the bytes) and by marker, and retries scripted 5xx and 429s', async () => {
    const markedGenuine = photo({ seed: 1 }); // its marker says genuine; the sha256 rule says deepfake
    const byMarker = photo({ seed: 2, face: 'CASE42' }); // "CASE42" appears in its bytes
    const twice500 = photo({ seed: 3 });
    const limited = photo({ seed: 4 });
    const clip = video({ seed: 5 });
    const { sim, env } = await setUp({
      outcomes: [
        { sha256: sha256Of(markedGenuine), outcome: 'deepfake' },
        { marker: 'CASE42', outcome: 'noface' },
        { media: twice500, outcome: { fail: '500', times: 2 } },
        { media: limited, outcome: { fail: '429', times: 1, retryAfterSeconds: null } },
        { media: clip, outcome: { fail: '503', times: 1 } },
      ],
    });
    const files = { 'a.jpg': markedGenuine, 'b.jpg': byMarker, 'c.jpg': twice500, 'd.jpg': limited, 'e.mp4': clip };
    for (const [name, bytes] of Object.entries(files)) await env.file(name, bytes);
    const rescreen = await env.rescreen();
    await rescreen.work();
    const { batch } = await rescreen.enqueue({
      lines: [
        { ref: 'a.jpg', check: 'ooto-deepfake' },
        { ref: 'b.jpg', check: 'ooto-deepfake' },
        { ref: 'c.jpg', check: 'ooto-deepfake' },
        { ref: 'd.jpg', check: 'ooto-deepfake' },
        { ref: 'e.mp4', check: 'glair-video' },
      ],
      baseDir: env.dir,
    });
    await env.waitForBatch(batch, { timeoutMs: 30_000 });
    const records = await env.records(batch);
    assertOneRecordPerLine(records, 5);
    expect(outcomesByLine(records)).toEqual({ 1: 'deepfake', 2: 'rejected:5', 3: 'genuine', 4: 'genuine', 5: 'genuine' });
    expect(recordMatchers.toHaveOutcome(records[1]!, 'rejected:5').pass).toBe(true);
    expect(recordMatchers.toHaveOutcomes(records, ['deepfake']).pass).toBe(false);
    expect(sim.callsFor(twice500).map((c) => c.status)).toEqual([500, 500, 200]);
    expect(sim.callsFor(limited).map((c) => c.status)).toEqual([429, 200]);
    expect(sim.callsFor(clip).map((c) => [c.endpoint, c.status])).toEqual([['glair-video', 503], ['glair-video', 200]]);
    expect(sim.callsFor(markedGenuine)[0]).toMatchObject({ vendor: 'ooto', endpoint: 'ooto-deepfake', status: 200, scripted: true });
    expect(sim.calls()).toHaveLength(9);
  });

  it("answers a scripted 429 with the Retry-After asked for, none, or the vendor's own; adds per-media latency", async () => {
    const none = photo({ seed: 11 });
    const seven = photo({ seed: 12 });
    const vendorDefault = photo({ seed: 13 });
    const slow = photo({ seed: 14 });
    const { sim } = await setUp({
      outcomes: [
        { media: none, outcome: { fail: '429', retryAfterSeconds: null } },
        { media: seven, outcome: { fail: '429', retryAfterSeconds: 7 } },
        { media: vendorDefault, outcome: { fail: '429' } },
        { media: slow, outcome: { latencyMs: 300 } },
      ],
    });
    const a = await postPhoto(sim, none);
    expect([a.status, a.headers.get('retry-after')]).toEqual([429, null]);
    const b = await postPhoto(sim, seven);
    expect([b.status, b.headers.get('retry-after')]).toEqual([429, '7']);
    const c = await postPhoto(sim, vendorDefault);
    expect(c.status).toBe(429);
    expect(c.headers.get('retry-after')).toMatch(/^\d+$/); // OOTO documents Retry-After
    const started = Date.now();
    const d = await postPhoto(sim, slow);
    expect(d.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(sim.stats().rateLimited).toBe(3);
  });

  it('enforces a quota given as text (429) and fails a share of calls at random; refuses a malformed quota', async () => {
    const { sim } = await setUp({ rateLimit: { ooto: '2/s' } });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await postPhoto(sim, photo({ seed: 40 + i }))).status);
    expect(statuses).toEqual([200, 200, 429]);
    const failing = await startSimulator({ failures: { rate: 1, kinds: ['503'] } });
    open.sims.push(failing);
    expect((await postPhoto(failing, photo({ seed: 50 }))).status).toBe(503);
    expect(failing.calls().map((c) => [c.status, c.scripted])).toEqual([[503, false]]);
    await expect(startSimulator({ rateLimit: { glair: 'fast' } })).rejects.toThrow(/rateLimit.glair/);
  });

  it('cleanup() leaves 0 keys under the prefix after API runs, CLI runs and rescreen demo', async () => {
    const { env } = await setUp();
    expect(env.prefix).toMatch(/^\{rescreen-test-kit-[0-9a-f]{10}\}$/);
    await env.file('m/a.jpg', photo({ seed: 21 }));
    await env.file('m/b.jpg', photo({ seed: 22, outcome: 'deepfake' }));
    const manifest = await env.manifest('m/manifest.jsonl', [
      { ref: 'a.jpg', check: 'ooto-deepfake', subject: 's1' },
      { ref: 'b.jpg', check: 'ooto-identify', subject: 's2' },
      { ref: 'nope.jpg', check: 'ooto-deepfake' },
    ]);
    const rescreen = await env.rescreen();
    await rescreen.run(manifest, { batch: 'via-api', timeoutMs: 30_000 });
    const cli = await runCli(['run', manifest, '--batch', 'via-cli'], { ...env.env }, 60_000);
    expect(cli.code, cli.stderr).toBe(0);
    expect((await runCli(['retry', 'via-cli'], { ...env.env })).code).toBe(0);
    expect((await runCli(['work', '--until-idle'], { ...env.env })).code).toBe(0);
    expect((await runCli(['schedule', 'add', 'nightly', '--manifest', manifest, '--every', '24h'], { ...env.env })).code).toBe(0);
    expect((await runCli(['limits', 'set', 'ooto', '20/s'], { ...env.env })).code).toBe(0);
    const demo = await runCli(['demo'], { ...env.env }, 60_000);
    expect(demo.code, demo.stderr).toBe(0);
    expect((await env.records('via-cli')).length).toBe(3);
    const before = await env.keys();
    expect(before.length).toBeGreaterThan(20);
    expect(before.some((k) => k.startsWith(`${env.prefix}-demo:`))).toBe(true);
    const deleted = await env.cleanup();
    expect(deleted).toBeGreaterThanOrEqual(before.length);
    expect(await env.keys()).toEqual([]);
    // Nothing anywhere that names this environment's random part.
    expect(await scanCount(`*${env.prefix.slice(-11, -1)}*`)).toBe(0);
  });

  it('waitForBatch gives up after timeoutMs with WAIT_TIMEOUT, saying how far the batch got', async () => {
    const { env } = await setUp();
    await env.file('a.jpg', photo({ seed: 31 }));
    const rescreen = await env.rescreen();
    const { batch } = await rescreen.enqueue({ lines: [{ ref: 'a.jpg', check: 'ooto-deepfake' }], baseDir: env.dir });
    // No worker runs: the batch cannot finish.
    const error: unknown = await env.waitForBatch(batch, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(error).toMatchObject({ code: 'WAIT_TIMEOUT', message: expect.stringContaining('0 of 1 lines recorded') });
    await rescreen.work();
    expect((await env.waitForBatch(batch, { timeoutMs: 30_000 })).recorded).toBe(1);
    expect(countOutcomes(await env.records(batch))).toEqual({ genuine: 1 });
  });

  it('refuses a store URL it cannot use, rather than ignoring it, and never echoes it', async () => {
    await expect(createTestEnv({ redisUrl: redisUrl(), storeUrl: 'mysql://u:secret@127.0.0.1/test' })).rejects.toThrow(/storeUrl must be a postgres:\/\/ URL/);
    await expect(createTestEnv({ redisUrl: redisUrl(), storeUrl: 'mysql://u:secret@127.0.0.1/test' })).rejects.not.toThrow(/secret/);
  });

  it('keeps results in PostgreSQL under a schema of its own, and cleanup() drops it', async () => {
    const sim = await startSimulator();
    open.sims.push(sim);
    const env = await createTestEnv({ simulator: sim, redisUrl: redisUrl(), label: 'kit.PG', storeUrl: `${pgUrl()}?schema=not_this_one` });
    open.envs.push(env);
    const schema = new URL(env.env.RESCREEN_STORE_URL!).searchParams.get('schema')!;
    expect(schema).toMatch(/^rescreen_test_kit_pg_[0-9a-f]{10}$/);
    const rescreen = await env.rescreen();
    const { batch } = await rescreen.enqueue({ lines: [{ ref: 'a.jpg', check: 'ooto-deepfake' }], baseDir: env.dir });
    await env.file('a.jpg', photo());
    await rescreen.work();
    expect((await env.waitForBatch(batch)).recorded).toBe(1);
    expect(countOutcomes(await env.records(batch))).toEqual({ genuine: 1 });
    expect(await schemaExists(schema)).toBe(true);
    await env.cleanup();
    expect(await schemaExists(schema)).toBe(false);
    expect(await env.keys()).toEqual([]);
  });
});
