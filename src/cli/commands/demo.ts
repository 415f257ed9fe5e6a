/**
 * `rescreen demo`: on a fresh machine, the built-in simulator + a real worker + a sample batch of
 * real generated media (JPEG, PNG, mp4, frames) through the real queues, then its results.
 * Redis is found as the tests find it: REDIS_URL, then 127.0.0.1:6379, then a redis-server on PATH.
 * The demo works under its own key prefix (`<RESCREEN_PREFIX>-demo`), so it never mixes with real batches.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../config/config.js';
import { locateRedis, openRuntime, RedisUnavailableError, type LocatedRedis } from '../../app/index.js';
import { sampleJpeg, sampleMp4, samplePng } from '../../simulator/sample-media.js';
import { startSimulator } from '../../simulator/server.js';
import { CliError, ExitCode } from '../cli-error.js';
import { cliConfig, cliLogger } from '../context.js';
import { RECORD_HEADERS, recordRow, table } from '../format.js';
import { runBatch } from './run.js';

interface DemoFile {
  readonly name: string;
  readonly bytes: Buffer;
}

/** The sample media and the manifest lines that use them; every outcome the pipeline knows appears once. */
function demoBatch(): { files: DemoFile[]; lines: object[] } {
  const files: DemoFile[] = [
    { name: 'alice.jpg', bytes: sampleJpeg({ seed: 1, directives: 'genuine,face=alice' }) },
    { name: 'mallory-deepfake.png', bytes: samplePng({ seed: 2, directives: 'fake' }) },
    { name: 'no-face.jpg', bytes: sampleJpeg({ seed: 3, directives: 'noface' }) },
    { name: 'alice-again.jpg', bytes: sampleJpeg({ seed: 4, directives: 'face=alice' }) },
    { name: 'stranger.png', bytes: samplePng({ seed: 5, directives: 'face=stranger' }) },
    { name: 'liveness-real.mp4', bytes: sampleMp4({ seed: 6, directives: 'genuine' }) },
    { name: 'liveness-fake.mp4', bytes: sampleMp4({ seed: 7, directives: 'fake' }) },
    { name: 'frames/1.jpg', bytes: sampleJpeg({ seed: 8, directives: 'genuine' }) },
    { name: 'frames/2.jpg', bytes: sampleJpeg({ seed: 9 }) },
    { name: 'frames/3.png', bytes: samplePng({ seed: 10 }) },
    { name: 'empty.jpg', bytes: Buffer.alloc(0) },
  ];
  const lines = [
    { ref: 'alice.jpg', check: 'ooto-deepfake', subject: 'cust-alice' },
    { ref: 'mallory-deepfake.png', check: 'ooto-deepfake', subject: 'cust-mallory' },
    { ref: 'no-face.jpg', check: 'ooto-deepfake', subject: 'cust-blank' },
    { ref: 'alice-again.jpg', check: 'ooto-identify', subject: 'cust-alice', options: { checkLiveness: true, checkDeepfake: true } },
    { ref: 'stranger.png', check: 'ooto-identify', subject: 'cust-stranger' },
    { ref: 'liveness-real.mp4', check: 'glair-video', subject: 'cust-alice' },
    { ref: 'liveness-fake.mp4', check: 'glair-video', subject: 'cust-mallory' },
    { frames: ['frames/1.jpg', 'frames/2.jpg', 'frames/3.png'], check: 'glair-frames', subject: 'cust-alice' },
    { ref: 'empty.jpg', check: 'ooto-deepfake', subject: 'cust-empty' },
    { ref: 'missing.jpg', check: 'ooto-deepfake', subject: 'cust-missing' },
    { ref: 'alice.jpg', check: 'face-swap-detector', subject: 'cust-typo' },
  ];
  return { files, lines };
}

async function findRedis(config: Config): Promise<LocatedRedis> {
  try {
    return await locateRedis(config.redisUrlExplicit ? config.redisUrl : undefined);
  } catch (error) {
    if (error instanceof RedisUnavailableError) throw new CliError(error.message, ExitCode.USAGE);
    throw error;
  }
}

export async function demo(): Promise<number> {
  const base = cliConfig();
  const redis = await findRedis(base);
  const simulator = await startSimulator({ latencyMs: 20 });
  const dir = await mkdtemp(join(tmpdir(), 'rescreen-demo-'));
  const log = cliLogger(base);
  try {
    const config: Config = {
      ...base,
      redisUrl: redis.url,
      prefix: `${base.prefix}-demo`,
      // Every vendor the simulator plays (those with simulator credentials), pointed at it.
      vendors: Object.fromEntries(
        Object.entries(base.vendors).map(([name, v]) => [
          name,
          v.spec.simulatorCredentials === undefined ? v : { ...v, baseUrl: simulator.url, credentials: { ...v.credentials, ...v.spec.simulatorCredentials } },
        ]),
      ),
      worker: { ...base.worker, backoffMs: 200, callRetries: 1, requestTimeoutMs: 10_000 },
    };
    const { files, lines } = demoBatch();
    await mkdir(join(dir, 'frames'), { recursive: true });
    for (const file of files) await writeFile(join(dir, file.name), file.bytes);
    // The 1:N database needs someone to find: enrol Alice, as an onboarding flow would have.
    simulator.addTemplate(sampleJpeg({ seed: 100, directives: 'face=alice' }), 'tmpl-alice');
    const manifest = join(dir, 'manifest.jsonl');
    await writeFile(manifest, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');

    process.stdout.write(
      `rescreen demo — Redis ${redis.source === 'spawned' ? 'started here at ' : 'at '}${redis.url.replace(/\/\/[^@]*@/, '//')}, ` +
        `vendor simulator at ${simulator.url}\nsample media and manifest in ${dir} (removed when the demo ends)\n\n`,
    );
    const runtime = await openRuntime(config, log);
    try {
      const batch = `demo-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      const { exitCode, enqueued } = await runBatch(runtime, { manifest, batch, concurrency: 4 });
      const rows = [];
      for await (const record of runtime.store.stream(enqueued.batch)) rows.push(recordRow(record));
      process.stdout.write(`\n${table(RECORD_HEADERS, rows)}\n\n`);
      if (redis.source !== 'spawned') {
        process.stdout.write(
          `look again later: RESCREEN_PREFIX=${config.prefix} npx rescreen results ${enqueued.batch}  ` +
            `(or: rescreen result <transactionId>)\n`,
        );
      }
      return exitCode;
    } finally {
      await runtime.close();
    }
  } finally {
    await simulator.close();
    await redis.stop();
    // The sample media was only for this run: leave no /tmp/rescreen-demo-* behind.
    await rm(dir, { recursive: true, force: true });
  }
}
