/**
 * When cases open: a batch's finish (the store's "batch finished" write) and, for a finished batch, a
 * record replaced later (a retry) each add a scan job to the `review` queue; a worker of every
 * `rescreen work` runs it (src/review/open.ts), so the vendor workers never wait for it. Scans of one
 * batch are folded together (BullMQ de-duplication), and opening is idempotent, so a scan that runs
 * twice opens nothing twice.
 */
import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from '../redis/client.js';
import type { Logger } from 'pino';
import type { CheckRegistry } from '../checks/registry.js';
import { reviewRulesKey } from '../redis/keys.js';
import type { CaseStore, ReviewCase } from '../store/cases.js';
import type { ResultStore } from '../store/types.js';
import { ringOpenings, withRingOpenings } from '../rings/cases.js';
import { linkBatch } from '../rings/link.js';
import type { RingStore } from '../store/rings.js';
import { findOpenings } from './open.js';
import { DEFAULT_REVIEW, parseReviewRules, type ReviewRules } from './rules.js';

export const REVIEW_QUEUE = 'review';

export interface ReviewScanJob {
  readonly batch: string;
}

/** Cases opened per store call. */
const OPEN_CHUNK = 500;
/** A retry's replaced records are scanned once this long after the first of them (the rest fold in). */
export const RESCAN_DELAY_MS = 5_000;

export function createReviewQueue(connection: Redis, prefix: string): Queue<ReviewScanJob> {
  return new Queue<ReviewScanJob>(REVIEW_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: {
      attempts: 5,
      backoff: { type: 'exponential', delay: 1_000 },
      removeOnComplete: { age: 24 * 3600, count: 1_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  });
}

/** Asks for a scan of the batch (now, or after `delayMs`); scans asked for while one waits fold into it. */
export async function requestScan(queue: Queue<ReviewScanJob>, batch: string, delayMs = 0): Promise<void> {
  await queue.add('scan', { batch }, { delay: delayMs, deduplication: { id: `scan-${batch}`, ttl: Math.max(delayMs, 1_000) } });
}

/** Keeps the batch's `--review` rules (text as parsed); a batch without any applies {@link DEFAULT_REVIEW}. */
export async function setReviewRules(redis: Redis, prefix: string, batch: string, text: string): Promise<void> {
  await redis.hset(reviewRulesKey(prefix), batch, text);
}

/** The batch's rules. */
export async function reviewRulesOf(redis: Redis, prefix: string, batch: string): Promise<ReviewRules> {
  const text = await redis.hget(reviewRulesKey(prefix), batch);
  if (text === null) return DEFAULT_REVIEW;
  const parsed = parseReviewRules(text);
  return parsed.ok ? parsed.rules : DEFAULT_REVIEW;
}

/** The rings a scan links the batch into (src/rings/link.ts), and identify's match threshold. */
export interface RingDeps {
  readonly store: RingStore;
  readonly matchThreshold: number;
}

/**
 * Scans a batch and opens its cases; returns the ones it opened. With `rings`, the batch is first
 * linked into the back-book's rings, and each of its subjects a link ties to a ring gets a `ring`
 * case when the batch's rules include `ring`.
 */
export async function scanBatch(
  deps: { redis: Redis; prefix: string; store: ResultStore; cases: CaseStore; checks: CheckRegistry; rings?: RingDeps },
  batch: string,
): Promise<ReviewCase[]> {
  const rules = await reviewRulesOf(deps.redis, deps.prefix, batch);
  let openings = await findOpenings(deps.store, deps.checks, batch, rules);
  if (deps.rings !== undefined) {
    const linked = await linkBatch({ store: deps.store, rings: deps.rings.store, matchThreshold: deps.rings.matchThreshold }, batch);
    if (rules.ring) openings = withRingOpenings(openings, await ringOpenings({ store: deps.store, rings: deps.rings.store }, batch, linked.links));
  }
  const opened: ReviewCase[] = [];
  for (let i = 0; i < openings.length; i += OPEN_CHUNK) opened.push(...(await deps.cases.openCases(openings.slice(i, i + OPEN_CHUNK))));
  return opened;
}

/** The worker of the `review` queue: one scan at a time per process; `onOpened` gets each scan's new cases (the webhooks). */
export function startReviewWorker(options: {
  connection: Redis;
  prefix: string;
  redis: Redis;
  store: ResultStore;
  cases: CaseStore;
  checks: CheckRegistry;
  rings?: RingDeps;
  log: Logger;
  onOpened: (cases: readonly ReviewCase[]) => Promise<void>;
}): Worker<ReviewScanJob> {
  const { log } = options;
  const worker = new Worker<ReviewScanJob>(
    REVIEW_QUEUE,
    async (job: Job<ReviewScanJob>) => {
      const opened = await scanBatch(options, job.data.batch);
      if (opened.length > 0) log.info({ batch: job.data.batch, cases: opened.length }, 'review cases opened');
      await options.onOpened(opened);
      return opened.length;
    },
    { connection: options.connection, prefix: options.prefix, concurrency: 1 },
  );
  worker.on('failed', (job, error) => log.warn({ batch: job?.data.batch, err: error.message }, 'review scan failed; will retry'));
  worker.on('error', (error) => log.error({ err: error }, 'review worker error'));
  return worker;
}
