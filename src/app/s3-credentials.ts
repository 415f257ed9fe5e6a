/**
 * Missing AWS credentials stop start-up (exit 2, naming where the SDK's default chain looked) when
 * queued jobs need object storage, before any vendor call: `enqueue` of an `s3://` prefix or of a
 * manifest with `s3://` refs, `retry` of such lines, and `work` / `run` while a batch with `s3://`
 * lines may have jobs queued. Which batches those are is kept in a ZSET (src/redis/keys.ts
 * s3BatchesKey: batch → when its s3:// lines were last queued).
 */
import { InvalidInputError, RescreenError } from '../errors/errors.js';
import { pendingJobCount } from '../queueing/idle.js';
import { s3BatchesKey } from '../redis/keys.js';
import type { Runtime } from '../runtime/runtime.js';
import { isBatchFinished } from '../store/types.js';

/**
 * Resolves AWS credentials through the default provider chain.
 * @throws InvalidInputError (exit 2) naming what the chain looked at; never a credential's value.
 */
export async function requireS3Credentials(runtime: Pick<Runtime, 's3'>): Promise<void> {
  try {
    await runtime.s3.requireCredentials();
  } catch (error) {
    if (error instanceof RescreenError) throw new InvalidInputError(`${error.message}; set credentials and start again (nothing was called)`, { cause: error });
    throw error;
  }
}

/** Marks `batch` as having `s3://` lines queued now, after checking that credentials resolve. */
export async function queueingS3Lines(runtime: Pick<Runtime, 's3' | 'redis' | 'config'>, batch: string, dryRun = false): Promise<void> {
  await requireS3Credentials(runtime);
  if (!dryRun) await runtime.redis.zadd(s3BatchesKey(runtime.config.prefix), Date.now(), batch);
}

/**
 * `work` / `run` start-up: requires credentials when a batch marked by {@link queueingS3Lines} may
 * still have jobs (unfinished, or lines queued again after it finished) and the queues hold jobs.
 * Batches that finished since they were marked are dropped from the mark; all of them once the queues are empty.
 */
export async function checkS3CredentialsAtStart(runtime: Runtime): Promise<void> {
  const key = s3BatchesKey(runtime.config.prefix);
  const marked = await runtime.redis.zrange(key, 0, 999, 'WITHSCORES');
  if (marked.length === 0) return;
  const queued = (await Promise.all(Object.values(runtime.queues).map((q) => pendingJobCount(q)))).reduce((a, b) => a + b, 0);
  if (queued === 0) {
    await runtime.redis.del(key);
    return;
  }
  let needed = false;
  for (let i = 0; i < marked.length; i += 2) {
    const [batch, at] = [marked[i]!, Number(marked[i + 1])];
    const summary = await runtime.store.summary(batch);
    const done = summary === null || (isBatchFinished(summary) && summary.finishedAt !== null && Date.parse(summary.finishedAt) > at);
    if (done) await runtime.redis.zrem(key, batch);
    else needed = true;
  }
  if (needed) await requireS3Credentials(runtime);
}
