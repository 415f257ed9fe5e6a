/**
 * Scenario (c)'s baseline, one process: BullMQ's own limiter as rescreen used it before its
 * admission control — a Worker with `limiter: {max, duration: 1000 + 40 ms guard}` making the same
 * multipart POST, and on 429 `queue.rateLimit(Retry-After)` + `RateLimitError` (no attempt spent).
 * Argument: JSON {redisUrl, prefix, simUrl, max, concurrency, n}. Exits once the queue is drained.
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { Pool } from 'undici';
import { postPhoto } from './common.js';

interface Args {
  redisUrl: string;
  prefix: string;
  simUrl: string;
  max: number;
  concurrency: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const connection = new Redis(args.redisUrl, { maxRetriesPerRequest: null });
const workerConnection = new Redis(args.redisUrl, { maxRetriesPerRequest: null });
const queue = new Queue<{ path: string }>('ooto', { connection, prefix: args.prefix });
const http = new Pool(args.simUrl, { connections: args.concurrency });

const worker = new Worker<{ path: string }>(
  'ooto',
  async (job) => {
    const res = await postPhoto(http, job.data.path);
    await res.body.dump();
    if (res.statusCode === 429) {
      const retryAfter = Number(res.headers['retry-after'] ?? 1);
      await queue.rateLimit(Math.max(1, retryAfter) * 1000);
      throw Worker.RateLimitError();
    }
    if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
    return null;
  },
  { connection: workerConnection, prefix: args.prefix, concurrency: args.concurrency, limiter: { max: args.max, duration: 1040 } },
);

for (;;) {
  await new Promise((r) => setTimeout(r, 200));
  const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized', 'paused');
  if (Object.values(counts).every((n) => n === 0)) break;
}
await worker.close();
await queue.close();
await http.close();
await Promise.all([connection.quit(), workerConnection.quit()]);
process.stdout.write('{}\n');
