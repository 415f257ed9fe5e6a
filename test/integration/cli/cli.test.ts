/**
 * The command line as a user meets it: the built CLI in a child process against a real Redis and
 * the simulator.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sampleJpeg, sampleMp4, samplePng } from '../../../src/simulator/sample-media.js';
import { SIM_CREDENTIALS } from '../../../src/simulator/server.js';
import { runCli } from '../../helpers/cli.js';
import { createHarness, type Harness } from '../../helpers/pipeline.js';
import { redisUrl } from '../../helpers/redis.js';

let h: Harness;
beforeEach(async () => {
  h = await createHarness('cli');
});
afterEach(async () => {
  await h.close();
});

async function smallBatch(): Promise<string> {
  await h.file('a.jpg', sampleJpeg({ seed: 1, directives: 'genuine' }));
  await h.file('b.png', samplePng({ seed: 2, directives: 'noface' }));
  await h.file('c.mp4', sampleMp4({ seed: 3, directives: 'fake' }));
  await h.file('f/1.jpg', sampleJpeg({ seed: 4 }));
  return h.manifest('batch.jsonl', [
    { ref: 'a.jpg', check: 'ooto-deepfake', subject: 'c1' },
    { ref: 'b.png', check: 'ooto-deepfake', subject: 'c2' },
    { ref: 'c.mp4', check: 'glair-video', subject: 'c3' },
    { frames: ['f/1.jpg'], check: 'glair-frames', subject: 'c4' },
    { ref: 'a.jpg', check: 'ooto-identify', subject: 'c5', options: { checkDeepfake: true } },
    'not an object',
  ]);
}

describe('rescreen CLI', () => {
  it('run → status → results → result, with records for every line', async () => {
    const manifest = await smallBatch();
    const run = await runCli(['run', manifest, '--batch', 'cli-1'], h.env);
    expect(run.stderr).toContain('line 6:');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('batch cli-1');
    expect(run.stdout).toMatch(/completed 4, rejected 1, failed 1/);

    const status = await runCli(['status', 'cli-1'], h.env);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/recorded\s+6/);

    const jsonl = await runCli(['results', 'cli-1'], h.env);
    const records = jsonl.stdout.trim().split('\n').map((l) => JSON.parse(l) as { line: number; transactionId: string | null; status: string });
    expect(records.map((r) => r.line)).toEqual([1, 2, 3, 4, 5, 6]);

    const csv = await runCli(['results', 'cli-1', '--format', 'csv'], h.env);
    const rows = csv.stdout.trim().split('\n');
    expect(rows[0]).toBe('batch,line,subject,ref,frames,check,status,transactionId,verdict,score,templateId,errorCode,errorMessage,stoppedBy,attempts,finishedAt,refHadQuery,mediaSha256,mediaBytes,mediaType');
    expect(rows).toHaveLength(7);

    const tx = records[0]!.transactionId!;
    const one = await runCli(['result', tx], h.env);
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout)).toMatchObject({ batch: 'cli-1', line: 1, transactionId: tx });

    const missing = await runCli(['result', 'no-such-tx'], h.env);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe('rescreen: no record with transaction id "no-such-tx"');
  });

  it('enqueue --dry-run writes nothing; enqueue then work --until-idle finishes the batch', async () => {
    const manifest = await smallBatch();
    const dry = await runCli(['enqueue', manifest, '--batch', 'cli-2', '--dry-run'], h.env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('would enqueue 5');
    expect((await runCli(['status', 'cli-2'], h.env)).code).toBe(1);

    const enq = await runCli(['enqueue', manifest, '--batch', 'cli-2'], h.env);
    expect(enq.code).toBe(0);
    expect(enq.stdout).toContain('enqueued 5');
    expect(enq.stderr).toMatch(/^line 6: /m);
    const work = await runCli(['work', '--until-idle'], h.env);
    expect(work.code, work.stderr).toBe(0);
    const status = await runCli(['status', 'cli-2'], h.env);
    expect(status.stdout).toMatch(/recorded\s+6 \(0 to go\)/);
  });

  it('bad credentials leave the jobs queued and exit 3', async () => {
    await h.file('a.jpg', sampleJpeg({ seed: 1 }));
    await h.file('b.mp4', sampleMp4({ seed: 2 }));
    const manifest = await h.manifest('m.jsonl', [
      { ref: 'a.jpg', check: 'ooto-deepfake' },
      { ref: 'a.jpg', check: 'ooto-deepfake', subject: 'x' },
      { ref: 'b.mp4', check: 'glair-video' },
    ]);
    const env = { ...h.env, OOTO_APP_KEY: 'wrong-key' };
    expect((await runCli(['enqueue', manifest, '--batch', 'auth'], env)).code).toBe(0);
    const work = await runCli(['work', '--until-idle'], env);
    expect(work.code).toBe(3);
    expect(work.stderr).toContain('OOTO refused our credentials');
    expect(work.stderr).not.toContain('wrong-key');
    const runtime = await h.openRuntime();
    const summary = await runtime.store.summary('auth');
    // GLAIR's job went through; both OOTO jobs wait for better credentials, no record, no attempt spent.
    expect(summary).toMatchObject({ recorded: 1, byStatus: { completed: 1, failed: 0, rejected: 0 } });
    const waiting = await runtime.queues.ooto!.getJobs(['wait', 'prioritized']);
    expect(waiting).toHaveLength(2);
    expect(waiting.every((j) => j.attemptsMade === 0)).toBe(true);

    // With the right credentials, the same queued jobs finish.
    const retry = await runCli(['work', '--until-idle'], h.env);
    expect(retry.code).toBe(0);
    expect(await runtime.store.summary('auth')).toMatchObject({ recorded: 3 });
  });

  it('no secret reaches any output or record at LOG_LEVEL=debug', async () => {
    const secrets = {
      OOTO_APP_ID: 'ooto-id-7f3a9c1e',
      OOTO_APP_KEY: 'ooto-key-SECRET-5b2d8e',
      GLAIR_USERNAME: 'glair-user-4c1d',
      GLAIR_PASSWORD: 'glair-pass-SECRET-9e7f',
      GLAIR_API_KEY: 'glair-api-SECRET-2a6b',
    };
    await h.close(); // this test makes its own harness: the shared one goes entirely
    h = await createHarness('secrets', {
      credentials: {
        ooto: { appId: secrets.OOTO_APP_ID, appKey: secrets.OOTO_APP_KEY },
        glair: { username: secrets.GLAIR_USERNAME, password: secrets.GLAIR_PASSWORD, apiKey: secrets.GLAIR_API_KEY },
      },
    }, { ...secrets, LOG_LEVEL: 'debug' });
    const manifest = await smallBatch();
    h.sim.failNext(2, '503');
    const run = await runCli(['run', manifest, '--batch', 'sec'], h.env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('"level":"debug"');
    const results = await runCli(['results', 'sec'], h.env);
    // And with a wrong key, the 401 path logs loudly without the key.
    const wrong = await runCli(['run', manifest, '--batch', 'sec-2'], { ...h.env, GLAIR_API_KEY: 'glair-api-SECRET-wrong' });
    for (const text of [run.stdout, run.stderr, results.stdout, wrong.stdout, wrong.stderr]) {
      for (const secret of [...Object.values(secrets), 'glair-api-SECRET-wrong']) expect(text).not.toContain(secret);
      expect(text).not.toContain(Buffer.from(`${secrets.GLAIR_USERNAME}:${secrets.GLAIR_PASSWORD}`).toString('base64'));
    }
  });

  it('unusable input: one line on stderr, a non-zero exit, no stack trace, no hang', async () => {
    const missing = await runCli(['enqueue', `${h.dir}/nope.jsonl`], h.env);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toContain('nope.jsonl');

    const started = Date.now();
    const noRedis = await runCli(['status', 'x'], { ...h.env, REDIS_URL: 'redis://:pw-SECRET@127.0.0.1:1' }, 20_000);
    expect(noRedis.code).toBe(2);
    expect(noRedis.stderr).toMatch(/^rescreen: cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1/);
    expect(noRedis.stderr).not.toContain('pw-SECRET');
    expect(noRedis.stderr).not.toMatch(/\n\s+at /);
    expect(Date.now() - started).toBeLessThan(15_000);

    const badEnv = await runCli(['status', 'x'], { ...h.env, OOTO_RATE_LIMIT: 'lots' });
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr).toContain('OOTO_RATE_LIMIT');

    const badCheck = await runCli(['enqueue', 'x.jsonl', '--check', 'nope'], h.env);
    expect(badCheck.code).toBe(2);
  });

  it('demo exits 0 and prints records with transaction ids', async () => {
    const demo = await runCli(['demo'], { REDIS_URL: redisUrl(), RESCREEN_PREFIX: h.prefix, LOG_LEVEL: 'warn' }, 90_000);
    expect(demo.code, demo.stderr).toBe(0);
    expect(demo.stdout).toMatch(/transactionId/);
    expect(demo.stdout).toMatch(/completed\s+genuine\s+\S+\s+[0-9a-f-]{36}/);
    expect(demo.stdout).toMatch(/rejected\s+-\s+-\s+[0-9a-f-]{36}\s+5: can not detect face/);
    // It leaves no /tmp/rescreen-demo-* folder behind.
    const folder = /sample media and manifest in (\S+)/.exec(demo.stdout)?.[1];
    expect(folder).toMatch(/rescreen-demo-/);
    expect(existsSync(folder!)).toBe(false);
    // Its export says who answered: the simulator at 127.0.0.1, whatever the exporting process is configured with.
    const batch = /results (demo-\S+)/.exec(demo.stdout)?.[1];
    expect(batch).toBeDefined();
    const out = join(h.dir, 'demo-export');
    const secrets = { OOTO_APP_ID: 'exporter-app-id-1234', OOTO_APP_KEY: 'exporter-app-key-5678', GLAIR_PASSWORD: 'exporter-glair-pw-9012' };
    const exported = await runCli(['export', batch!, '--out', out, '--unsigned'], { REDIS_URL: redisUrl(), RESCREEN_PREFIX: `${h.prefix}-demo`, OOTO_BASE_URL: 'https://api.ooto.example', ...secrets });
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toMatch(/; answered by the rescreen simulator at http:\/\/127\.0\.0\.1:\d+ \((ooto, glair|glair, ooto)\), not by a vendor\n$/);
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as { settings: { simulator: boolean; answeredBy: { vendor: string; baseUrl: string; simulator: boolean }[] } };
    expect(manifest.settings.simulator).toBe(true);
    expect(manifest.settings.answeredBy.map((s) => s.vendor).sort()).toEqual(['glair', 'ooto']);
    for (const s of manifest.settings.answeredBy) expect(s).toMatchObject({ baseUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), simulator: true });
    for (const name of await readdir(out)) {
      const text = await readFile(join(out, name), 'utf8');
      for (const secret of [...Object.values(secrets), ...Object.values(SIM_CREDENTIALS.ooto), ...Object.values(SIM_CREDENTIALS.glair)]) expect(text, name).not.toContain(secret);
    }
  });
});
