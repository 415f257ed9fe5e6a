/**
 * The whole pipeline on a local 3-master Redis Cluster (started and torn down here): a mixed batch
 * with a hash-tagged prefix ends as one record per line; a prefix without a hash tag is refused
 * with the fix.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleJpeg, sampleMp4, samplePng } from '../../../src/simulator/sample-media.js';
import { realClockEnv, runCli } from '../../helpers/cli.js';
import { createHarness, type Harness } from '../../helpers/pipeline.js';
import { startCluster, type LocalCluster } from '../../helpers/redis-cluster.js';
import { redisClient } from '../../helpers/redis.js';

const exec = promisify(execFile);

let cluster: LocalCluster;
beforeAll(async () => {
  cluster = await startCluster();
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

describe('on a Redis Cluster', () => {
  it('a hash-tagged prefix runs a mixed batch end to end, one record per line', async () => {
    const prefix = `{rt-cluster-${randomBytes(4).toString('hex')}}`;
    const h: Harness = await createHarness('cluster', {}, { REDIS_URL: cluster.url, RESCREEN_PREFIX: prefix });
    try {
      await h.file('a.jpg', sampleJpeg({ seed: 1, directives: 'genuine' }));
      await h.file('b.png', samplePng({ seed: 2, directives: 'fake,score=0.1' }));
      await h.file('n.jpg', sampleJpeg({ seed: 3, directives: 'noface' }));
      await h.file('v.mp4', sampleMp4({ seed: 4, directives: 'genuine' }));
      await h.file('f/1.jpg', sampleJpeg({ seed: 5 }));
      await h.file('f/2.png', samplePng({ seed: 6 }));
      h.sim.addTemplate(sampleJpeg({ seed: 7, directives: 'face=zed' }), 'tmpl-zed');
      await h.file('zed.jpg', sampleJpeg({ seed: 8, directives: 'face=zed' }));
      const manifest = await h.manifest('m.jsonl', [
        { ref: 'a.jpg', check: 'ooto-deepfake', subject: 's1' },
        { ref: 'b.png', check: 'ooto-deepfake', subject: 's2' },
        { ref: 'n.jpg', check: 'ooto-deepfake', subject: 's3' },
        { ref: 'v.mp4', check: 'glair-video', subject: 's4' },
        { frames: ['f/1.jpg', 'f/2.png'], check: 'glair-frames', subject: 's5' },
        { ref: 'zed.jpg', check: 'ooto-identify', subject: 's6' },
        { ref: 'missing.jpg', check: 'ooto-deepfake', subject: 's7' },
        { ref: 'a.jpg', check: 'no-such-check' },
      ]);
      const run = await runCli(['run', manifest, '--batch', 'cl-1'], h.env, 90_000);
      expect(run.code, run.stderr).toBe(0);
      const out = await runCli(['results', 'cl-1'], h.env);
      const records = out.stdout.trim().split('\n').map((l) => JSON.parse(l) as { line: number; status: string; verdict: string | null });
      expect(records.map((r) => [r.line, r.status, r.verdict])).toEqual([
        [1, 'completed', 'genuine'],
        [2, 'completed', 'deepfake'],
        [3, 'rejected', null],
        [4, 'completed', 'genuine'],
        [5, 'completed', expect.any(String)],
        [6, 'completed', 'match'],
        [7, 'failed', null],
        [8, 'failed', null],
      ]);
      const status = await runCli(['status', 'cl-1'], h.env);
      expect(status.stdout).toMatch(/completed 5, rejected 1, failed 2/);
      // The keys are on the Cluster (all on the node that owns the hash tag's slot), none on the plain Redis.
      const perNode = await Promise.all(cluster.ports.map(async (p) => (await exec('redis-cli', ['-p', String(p), '--scan', '--pattern', `${prefix}:*`], { env: realClockEnv() })).stdout.trim()));
      expect(perNode.filter((keys) => keys !== '')).toHaveLength(1);
      expect(perNode.join('\n')).toContain(`${prefix}:store:batch:cl-1:records`);
      const plain = redisClient();
      try {
        expect(await plain.keys(`${prefix}:*`)).toEqual([]);
      } finally {
        await plain.quit();
      }
    } finally {
      await h.close();
    }
  }, 120_000);

  it('a prefix without a hash tag is refused, and the message shows the fix', async () => {
    const h = await createHarness('cluster-bad', {}, { REDIS_URL: cluster.url, RESCREEN_PREFIX: 'rescreen-plain' });
    try {
      const res = await runCli(['batches'], h.env);
      expect(res.code).not.toBe(0);
      expect(res.stderr).toMatch(/RESCREEN_PREFIX=rescreen-plain would spread .* set RESCREEN_PREFIX=\{rescreen-plain\}/);
      expect(res.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await h.close();
    }
  });
});
