/**
 * A folder as a manifest: the producer and the CLI against a real Redis (and, for `run`, the
 * simulator), on a folder of generated media.
 */
import { mkdir, realpath, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Job } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobPayload, ResultRecord } from '../../../src/checks/types.js';
import { enqueueManifest } from '../../../src/queueing/producer.js';
import type { Runtime } from '../../../src/runtime/runtime.js';
import { sampleJpeg, sampleMp4, samplePng } from '../../../src/simulator/sample-media.js';
import { runCli } from '../../helpers/cli.js';
import { createHarness, sha256, type Harness } from '../../helpers/pipeline.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const IMAGES = 1_000;
const NOT_MEDIA = ['README.txt', '.DS_Store', 'g3/notes.csv', 'g7/s2/thumbs.db', 'g0/anim.gif'];

/**
 * 1,000 images (JPEG and PNG, each from its own seed) in nested folders g<0-9>/s<0-4>/, with names
 * whose byte order differs from their number order, plus a few files that are not media.
 */
async function imageFolder(harness: Harness): Promise<{ folder: string; refs: string[] }> {
  const refs: string[] = [];
  for (let i = 0; i < IMAGES; i++) {
    const png = i % 3 === 0;
    const ref = `g${i % 10}/s${Math.floor(i / 10) % 5}/img-${i}.${png ? 'png' : 'jpg'}`;
    await harness.file(join('selfies', ref), png ? samplePng({ seed: i }) : sampleJpeg({ seed: i }));
    refs.push(ref);
  }
  for (const name of NOT_MEDIA) {
    await harness.file(join('selfies', name), name.endsWith('.gif') ? Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1') : 'x');
  }
  return { folder: join(harness.dir, 'selfies'), refs };
}

/** The walk order, independently: paths compared folder by folder, names in byte order. */
function walkOrder(paths: readonly string[]): string[] {
  const split = (p: string) => p.split('/').map((s) => Buffer.from(s));
  return [...paths].sort((a, b) => {
    const x = split(a);
    const y = split(b);
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      const c = Buffer.compare(x[i]!, y[i]!);
      if (c !== 0) return c;
    }
    return x.length - y.length;
  });
}

async function jobsOf(runtime: Runtime, batch: string): Promise<Job<JobPayload>[]> {
  const jobs = await runtime.queues.ooto!.getJobs(['wait', 'prioritized', 'delayed'], 0, -1);
  return jobs.filter((j) => j.data.batch === batch).sort((a, b) => a.data.line - b.data.line);
}

describe('a folder as a manifest', () => {
  it('enqueues 1,000 generated images in a stable, sorted order with subjects from their paths', async () => {
    h = await createHarness('folder');
    const { folder, refs } = await imageFolder(h);
    const runtime = await h.openRuntime();
    const enqueue = (batch: string) =>
      enqueueManifest({ manifestPath: folder, batch, checkOverride: 'ooto-deepfake', queues: runtime.queues, checks: runtime.checks, store: runtime.store });

    const first = await enqueue('folder-1');
    expect(first).toMatchObject({ lines: IMAGES, enqueued: IMAGES, invalid: 0, maxLine: IMAGES, byCheck: { 'ooto-deepfake': IMAGES } });
    expect(first.skipped).toEqual({ 'not-media': NOT_MEDIA.length, 'not-for-check': 0, 'folder-walked': 0 });

    const jobs = await jobsOf(runtime, 'folder-1');
    expect(jobs.map((j) => j.data.line)).toEqual(Array.from({ length: IMAGES }, (_, i) => i + 1));
    const order = walkOrder(refs);
    expect(jobs.map((j) => j.data.ref)).toEqual(order);
    // Byte order, not number order: img-10 comes before img-100 before img-20 (within a folder).
    expect(order.slice(0, 3)).toEqual(['g0/s0/img-0.png', 'g0/s0/img-100.jpg', 'g0/s0/img-150.png']);
    for (const job of jobs) {
      expect(job.data.subject).toBe(job.data.ref!.replace(/\.(jpg|png)$/, ''));
      expect(job.data.baseDir).toBe(folder);
      expect(job.name).toBe('ooto-deepfake');
    }

    // A second run of the same folder (another batch) gives the same line → ref mapping.
    await enqueue('folder-2');
    const again = await jobsOf(runtime, 'folder-2');
    expect(again.map((j) => [j.data.line, j.data.ref, j.data.subject])).toEqual(jobs.map((j) => [j.data.line, j.data.ref, j.data.subject]));
  });

  it('the CLI derives a stable batch id from the folder, says what it skipped, and adds nothing twice', async () => {
    h = await createHarness('folder-cli');
    await h.file('photos/b/1.jpg', sampleJpeg({ seed: 1 }));
    await h.file('photos/a.png', samplePng({ seed: 2 }));
    await h.file('photos/clip.mp4', sampleMp4({ seed: 3 }));
    await h.file('photos/notes.txt', 'not media');
    const folder = join(h.dir, 'photos');

    const first = await runCli(['enqueue', folder, '--check', 'ooto-deepfake'], h.env);
    expect(first.code, first.stderr).toBe(0);
    const batch = /^batch (\S+)$/m.exec(first.stdout)?.[1];
    expect(batch).toMatch(/^photos-[0-9a-f]{12}$/);
    expect(first.stdout).toContain('2 lines: enqueued 2');
    expect(first.stdout).toContain('skipped 1 file that is not JPEG/PNG/mp4');
    expect(first.stdout).toContain('skipped 1 file that is media of a type --check does not take');

    const second = await runCli(['enqueue', folder, '--check', 'ooto-deepfake'], h.env);
    expect(second.stdout).toContain(`batch ${batch}\n`);
    expect(second.stdout).toContain('2 lines: enqueued 0, already recorded 0, already queued 2');

    // Without --check every media file is a line (mp4 → glair-video): another listing, another batch.
    const all = await runCli(['enqueue', folder, '--dry-run'], h.env);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).not.toContain(`batch ${batch}\n`);
    expect(all.stdout).toContain('3 lines: would enqueue 3');
    expect(all.stdout).toMatch(/glair-video\s+glair\s+1\s+1\s/);
  });

  it('refuses a link that leaves the folder with a clear message and a failed record; a link inside works', async () => {
    h = await createHarness('folder-links');
    const secret = sampleJpeg({ seed: 9 });
    const outside = await realpath(await h.file('outside/secret.jpg', secret));
    await h.file('in/real/a.jpg', sampleJpeg({ seed: 1, directives: 'genuine' }));
    await h.file('in/b.mp4', sampleMp4({ seed: 2, directives: 'fake' }));
    const folder = join(h.dir, 'in');
    await mkdir(join(folder, 'links'));
    await symlink(outside, join(folder, 'links', 'evil.jpg'));
    await symlink('../real/a.jpg', join(folder, 'links', 'inside.jpg'));
    await writeFile(join(folder, 'links', 'readme.txt'), 'links to look at');

    const run = await runCli(['run', folder, '--batch', 'links'], h.env);
    expect(run.code, run.stderr).toBe(0);
    const reason = `links outside the folder are refused: links/evil.jpg → ${outside}`;
    expect(run.stderr).toContain(`line 2: ${reason}`);
    expect(run.stdout).toMatch(/completed 3, rejected 0, failed 1/);

    const records = (await runCli(['results', 'links'], h.env)).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as ResultRecord);
    expect(records.map((r) => [r.line, r.ref, r.subject, r.check, r.status])).toEqual([
      [1, 'b.mp4', 'b', 'glair-video', 'completed'],
      [2, 'links/evil.jpg', 'links/evil', null, 'failed'],
      [3, 'links/inside.jpg', 'links/inside', 'ooto-deepfake', 'completed'],
      [4, 'real/a.jpg', 'real/a', 'ooto-deepfake', 'completed'],
    ]);
    expect(records[1]!.error).toEqual({ code: 'INVALID_LINE', message: reason });
    expect(records[1]!.transactionId).toBeNull();
    expect(records[2]!.transactionId).toEqual(expect.any(String));
    expect(records[2]!.verdict).toBe('genuine');
    // The outside file was never sent anywhere.
    expect(h.sim.stats().callsByEndpoint['ooto-deepfake']).toBe(2);
    expect(h.sim.stats().callsByMediaSha256[sha256(secret)]).toBeUndefined();
  });
});
