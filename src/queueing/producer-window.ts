/**
 * What keeps Redis bounded whatever the backlog: the producer's window (at most `maxQueued` jobs
 * waiting in the vendor queues; it feeds more as workers drain them) and its cursor (the last line
 * written, with the manifest's fingerprint), so a producer that restarts resumes where it stopped
 * without a look-up per line, and refuses a manifest that changed meanwhile.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Queue } from 'bullmq';
import { ErrorCodes, RescreenError } from '../errors/errors.js';
import { hashFile } from '../media/digest.js';
import { countJobs, QUEUED_STATES } from './idle.js';

/** Jobs waiting (or delayed, prioritised, paused) in the queues, all batches. */
export async function queuedJobs(queues: readonly Queue[]): Promise<number> {
  const counts = await Promise.all(queues.map((q) => countJobs(q, ...QUEUED_STATES)));
  return counts.reduce((a, b) => a + b, 0);
}

/** Waits until `adding` more jobs keep the queues at or under `maxQueued` (polling every `pollMs`). */
export async function admitJobs(queues: readonly Queue[], maxQueued: number, adding: number, pollMs = 250, signal?: AbortSignal): Promise<void> {
  // A chunk larger than the window still goes in once the queues are empty: never a deadlock.
  for (;;) {
    const queued = await queuedJobs(queues);
    if (queued === 0 || queued + adding <= maxQueued) return;
    await sleep(pollMs, undefined, signal ? { signal } : undefined);
  }
}

/** sha256 of a manifest file's bytes (hex). */
export async function fileFingerprint(path: string): Promise<string> {
  return (await hashFile(path)).sha256;
}

/** What a prefix manifest's fingerprint starts with (the rest is its listing's sha256, src/manifest/s3-prefix.ts prefixDigest). */
export const PREFIX_FINGERPRINT = 'prefix:';

/** The Redis commands the cursor needs (BullMQ's ioredis client has them). */
export interface CursorRedis {
  hgetall(key: string): Promise<Record<string, string>>;
  hset(key: string, ...fieldValues: string[]): Promise<number>;
}

/**
 * Where a prefix manifest's pass stands (src/manifest/s3-prefix.ts): the key of the cursor's line, so
 * the listing resumes after it (StartAfter) instead of listing again from the start, and the counts of
 * the lines up to it, which the resumed pass does not read again.
 */
export interface PrefixPosition {
  readonly key: string;
  readonly counts: { readonly lines: number; readonly invalid: number; readonly byCheck: Readonly<Record<string, number>> };
}

/**
 * The producer's cursor of one batch: HASH {fingerprint, line, done, and for a prefix manifest
 * after (a key) and counts (JSON)} at src/redis/keys.ts producerCursorKey.
 */
export class ProducerCursor {
  /** After {@link start}: a prefix pass's position at the line it resumes after, if it recorded one. */
  resumed: PrefixPosition | undefined;

  constructor(
    private readonly redis: CursorRedis,
    private readonly key: string,
    private readonly fingerprint: string,
  ) {}

  /**
   * The line to resume after (0: from the start). A pass that did not finish resumes only with the
   * same manifest; a finished pass starts a new one (lines with a record are skipped as always).
   * @throws RescreenError MANIFEST_CHANGED when an unfinished pass read another manifest.
   */
  async start(batch: string): Promise<number> {
    const state = await this.redis.hgetall(this.key);
    const unfinished = state.fingerprint !== undefined && state.done !== '1';
    if (unfinished && state.fingerprint !== this.fingerprint) {
      throw new RescreenError(
        ErrorCodes.MANIFEST_CHANGED,
        `batch ${batch} was being enqueued from a manifest with other content (it changed after line ${state.line ?? 0} was enqueued); ` +
          'enqueue the original manifest again to finish it, or use a new --batch id for the changed one',
      );
    }
    let from = unfinished ? Number(state.line ?? 0) : 0;
    this.resumed = undefined;
    if (from > 0 && state.after !== undefined && state.counts !== undefined) {
      this.resumed = { key: state.after, counts: JSON.parse(state.counts) as PrefixPosition['counts'] };
    } else if (from > 0 && state.after === undefined && state.fingerprint?.startsWith(PREFIX_FINGERPRINT) === true) {
      from = 0; // a prefix pass that recorded no key: list it from the start (the look-ups skip what is queued)
    }
    await this.redis.hset(this.key, 'fingerprint', this.fingerprint, 'line', String(from), 'done', '0');
    return from;
  }

  /** Every line up to `line` is written (queued or recorded); a prefix pass says at which key and with which counts. */
  async advance(line: number, position?: PrefixPosition): Promise<void> {
    if (position) await this.redis.hset(this.key, 'line', String(line), 'after', position.key, 'counts', JSON.stringify(position.counts));
    else await this.redis.hset(this.key, 'line', String(line));
  }

  async finish(): Promise<void> {
    await this.redis.hset(this.key, 'done', '1');
  }
}
