/**
 * Missing AWS credentials stop start-up (exit 2, naming where the SDK's default chain looked) when
 * queued jobs need object storage, before any vendor call: `enqueue` of an `s3://` prefix or of a
 * manifest with `s3://` refs, `retry` of such lines, and `work` / `run` while a batch with `s3://`
 * lines may have jobs queued. Which batches those are is kept in a ZSET (src/redis/keys.ts
 * s3BatchesKey: batch → when its s3:// lines were last queued), and the lines `retry` queued again
 * in a SET per batch (s3RetriedKey).
 */
import { InvalidInputError, RescreenError } from '../errors/errors.js';
import { pendingJobCount } from '../queueing/idle.js';
import { s3BatchesKey, s3RetriedKey } from '../redis/keys.js';
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
 * `retry` is about to queue these jobs (ids of lines naming `s3://` media) of `batch` again: kept
 * until start-up finds them gone, since a finished batch's summary cannot tell that they are queued.
 */
export async function requeueingS3Jobs(runtime: Pick<Runtime, 'redis' | 'config'>, batch: string, jobIds: readonly string[]): Promise<void> {
  if (jobIds.length > 0) await runtime.redis.sadd(s3RetriedKey(runtime.config.prefix, batch), ...jobIds);
}

/**
 * `work` / `run` start-up: requires credentials while a batch marked by {@link queueingS3Lines} may
 * still have jobs queued: it has not finished (its lines may be queued, paused, held), or it has and
 * a line `retry` queued again still has its job (jobs are removed once done, so a job that exists is
 * unfinished). Batches found without any are unmarked; all of them once the queues are empty.
 */
export async function checkS3CredentialsAtStart(runtime: Runtime): Promise<void> {
  const { redis, config } = runtime;
  const key = s3BatchesKey(config.prefix);
  const marked = await redis.zrange(key, 0, 999);
  if (marked.length === 0) return;
  const queued = (await Promise.all(Object.values(runtime.queues).map((q) => pendingJobCount(q)))).reduce((a, b) => a + b, 0);
  if (queued === 0) {
    await redis.del(key, ...marked.map((batch) => s3RetriedKey(config.prefix, batch)));
    return;
  }
  for (const batch of marked) {
    if (await mayHaveS3Jobs(runtime, batch)) {
      await requireS3Credentials(runtime);
      return;
    }
    await redis.multi().zrem(key, batch).del(s3RetriedKey(config.prefix, batch)).exec();
  }
}

/** Ids read per round when looking for a retried line's job. */
const PAGE = 500;

/**
 * Whether `batch` may have jobs that fetch `s3://` media. A finished batch has a record for every
 * line, so its only possible jobs are lines `retry` queued again ({@link requeueingS3Jobs}): each id
 * is looked up in every queue, and ids without a job are dropped, so each is looked up until gone.
 */
async function mayHaveS3Jobs(runtime: Runtime, batch: string): Promise<boolean> {
  const summary = await runtime.store.summary(batch);
  if (summary === null) return false;
  if (!isBatchFinished(summary)) return true;
  const { redis, config } = runtime;
  const retried = s3RetriedKey(config.prefix, batch);
  const queues = Object.values(runtime.queues);
  let cursor = '0';
  do {
    const [next, ids] = await redis.sscan(retried, cursor, 'COUNT', PAGE);
    cursor = next;
    if (ids.length === 0) continue;
    const lookups = redis.pipeline();
    for (const id of ids) for (const queue of queues) lookups.exists(queue.toKey(id));
    const found = (await lookups.exec()) ?? [];
    const live = (i: number) => queues.some((_, q) => found[i * queues.length + q]?.[1] !== 0);
    if (ids.some((_, i) => live(i))) return true;
    await redis.srem(retried, ...ids);
  } while (cursor !== '0');
  return false;
}
