/**
 * `node dist/bench/s3-fetch.js`: media fetch throughput of the loader (createMediaLoader, the
 * workers' own) from `s3://` refs against a local S3-protocol server (s3rver on loopback, through
 * the testing kit, real AWS SDK) beside the same bytes as local files. Two sizes: 64×64 JPEG photos
 * (a few KB: per-request cost) and 1 MiB mp4s (bandwidth). 16 loads in flight, as a worker's
 * default concurrency. Prints a markdown table for BENCHMARKS.md.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMediaLoader } from '../src/media/loader.js';
import { createS3Access } from '../src/media/s3.js';
import { photo, startS3Server, video } from '../src/testing/index.js';

const IN_FLIGHT = 16;

async function timed(refs: readonly string[], load: (ref: string) => Promise<{ bytes: Buffer }>): Promise<{ perSecond: number; mbPerSecond: number }> {
  let next = 0;
  let bytes = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < refs.length) {
        const blob = await load(refs[next++]!);
        bytes += blob.bytes.length;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { perSecond: refs.length / seconds, mbPerSecond: bytes / 1024 / 1024 / seconds };
}

async function main(): Promise<void> {
  const s3 = await startS3Server({ buckets: ['bench'] });
  for (const [name, value] of Object.entries(s3.env)) if (name.startsWith('AWS_')) process.env[name] = value;
  const dir = await mkdtemp(join(tmpdir(), 'rescreen-s3-bench-'));
  try {
    const photos = Array.from({ length: 1000 }, (_, i) => photo({ seed: i }));
    const clip = video({ seed: 1 });
    const videos = Array.from({ length: 100 }, (_, i) => Buffer.concat([clip, Buffer.alloc(1024 * 1024 - clip.length, i)]));
    await s3.putObjects('bench', [...photos.map((body, i) => ({ key: `p/${i}.jpg`, body })), ...videos.map((body, i) => ({ key: `v/${i}.mp4`, body }))]);
    await Promise.all([...photos.map((b, i) => writeFile(join(dir, `${i}.jpg`), b)), ...videos.map((b, i) => writeFile(join(dir, `${i}.mp4`), b))]);
    const access = createS3Access(
      { endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, allowBuckets: undefined },
      { hostPolicy: { allowHosts: ['127.0.0.1'], allowPrivate: false } },
    );
    const loader = createMediaLoader({ s3: access, hostPolicy: { allowHosts: ['127.0.0.1'], allowPrivate: false } });
    const rows: string[] = [];
    for (const [label, count, ext, load] of [
      [`photos (64×64 JPEG, ${(photos.reduce((a, b) => a + b.length, 0) / photos.length / 1024).toFixed(1)} KB)`, photos.length, 'jpg', (r: string) => loader.loadPhoto(r, dir)],
      ['videos (1 MiB mp4)', videos.length, 'mp4', (r: string) => loader.loadVideo(r, dir)],
    ] as const) {
      const local = Array.from({ length: count }, (_, i) => `${i}.${ext}`);
      const remote = Array.from({ length: count }, (_, i) => `s3://bench/${ext === 'jpg' ? 'p' : 'v'}/${i}.${ext}`);
      await timed(remote.slice(0, 50), load); // warm-up: SDK load, connections
      const s = await timed(remote, load);
      const f = await timed(local, load);
      rows.push(`| ${label}, ${count} loads, ${IN_FLIGHT} in flight | ${s.perSecond.toFixed(0)}/s (${s.mbPerSecond.toFixed(1)} MB/s) | ${f.perSecond.toFixed(0)}/s (${f.mbPerSecond.toFixed(1)} MB/s) |`);
    }
    access.close();
    console.log('| media fetch | s3:// (s3rver on loopback) | local files |\n|---|--:|--:|\n' + rows.join('\n'));
  } finally {
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
