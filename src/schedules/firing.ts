/**
 * One firing of a schedule: skip it when the schedule's previous batch is still running (unless the
 * schedule allows overlap), else stream the manifest into the vendor queues as batch
 * `<name>-<scheduled time>`. Used by the `schedules` worker (./worker.ts) and by `schedule run`.
 *
 * Idempotent per scheduled time: the batch id is derived from it, and the producer adds nothing for
 * a line that already has a record or a queued job, so a firing processed twice (a retried or stalled
 * firing job, `schedule run` twice in the same millisecond) makes one batch and no second vendor call.
 */
import { DEFAULT_CANARY_THRESHOLD, readCanarySet } from '../drift/canary-set.js';
import type { Queue } from 'bullmq';
import { isBatchFinished } from '../store/types.js';
import type { Logger } from 'pino';
import type { CheckRegistry } from '../checks/registry.js';
import type { Vendor } from '../vendors/types.js';
import { enqueueManifest, type EnqueueSummary } from '../queueing/producer.js';
import type { BatchSummary, ResultStore } from '../store/types.js';
import { batchIdOf, type ScheduleDefinition } from './definition.js';
import type { ScheduleSkip, ScheduleState, ScheduleStateStore } from './state.js';

/** What a firing needs; the queues and store are the runtime's. */
export interface FiringDeps {
  readonly queues: Readonly<Record<Vendor, Queue>>;
  /** The checks the manifest's lines may name (the runtime's). */
  readonly checks: CheckRegistry;
  readonly store: ResultStore;
  readonly state: ScheduleStateStore;
  readonly log: Logger;
  /** Records the batch's terms (prices, currency, store) before its first job is queued; throws to refuse the batch. */
  readonly recordTerms?: (batch: string) => Promise<void>;
  /** Keeps the batch's `--review` rules (the definition's `review`) before its first job is queued. */
  readonly setReview?: (batch: string, rules: string) => Promise<void>;
  /** Clock of `lastFiredAt` and of skip/failure times. Default `() => new Date()`. */
  readonly now?: () => Date;
}

export interface FiringOptions {
  /** Fire even if the previous batch is still running (`schedule run --force`). Default false. */
  readonly force?: boolean;
}

export type FiringOutcome =
  | { readonly kind: 'enqueued'; readonly batch: string; readonly enqueued: EnqueueSummary }
  | { readonly kind: 'skipped'; readonly batch: string; readonly skip: ScheduleSkip };

/**
 * Fires `definition` for `scheduledAt`.
 *
 * Overlap (policy `skip`): the previous batch is the one recorded in the schedule's state; it is
 * running while its producer has not finished or it has fewer records than lines. A batch whose
 * enqueue failed (recorded as `lastError`) does not count as running, so a broken manifest does not
 * block later firings once fixed.
 *
 * @throws ManifestUnreadableError when the manifest cannot be read (recorded as the schedule's
 *   `lastError` first); Redis errors as they come (the firing job is retried).
 */
export async function fireSchedule(
  definition: ScheduleDefinition,
  scheduledAt: Date,
  deps: FiringDeps,
  options: FiringOptions = {},
): Promise<FiringOutcome> {
  const now = deps.now ?? (() => new Date());
  const { name } = definition;
  const batch = batchIdOf(name, scheduledAt);
  const log = deps.log.child({ schedule: name, batch });

  if (definition.overlap === 'skip' && options.force !== true) {
    const state = await deps.state.get(name);
    const running = await runningPrevious(state, batch, deps.store);
    if (running) {
      const skip: ScheduleSkip = {
        at: now().toISOString(),
        scheduledAt: scheduledAt.toISOString(),
        batch,
        previous: running.batch,
        recorded: running.recorded,
        total: running.producerDone ? running.total : null,
      };
      await deps.state.recordSkip(name, skip);
      log.warn(
        { previous: skip.previous, recorded: skip.recorded, total: skip.total },
        `schedule ${name}: firing skipped, previous batch ${skip.previous} is still running (${skip.recorded}/${skip.total ?? '?'} recorded)`,
      );
      return { kind: 'skipped', batch, skip };
    }
  }

  // Recorded before enqueueing: a concurrent firing of the same schedule on another worker then sees
  // this batch (running as soon as the producer registers it).
  await deps.state.recordFiring(name, batch, scheduledAt, now());
  let enqueued: EnqueueSummary;
  try {
    await deps.recordTerms?.(batch);
    if (definition.review !== undefined) await deps.setReview?.(batch, definition.review);
    // The canary set is read at each firing: a set changed since is the one screened.
    const canary = definition.canary === undefined ? undefined : { lines: await readCanarySet(definition.canary, { checks: deps.checks, ...(definition.check !== null ? { checkOverride: definition.check } : {}) }), threshold: definition.canaryThreshold ?? DEFAULT_CANARY_THRESHOLD };
    enqueued = await enqueueManifest({
      manifestPath: definition.manifest,
      batch,
      ...(canary !== undefined ? { canary } : {}),
      ...(definition.check !== null ? { checkOverride: definition.check } : {}),
      queues: deps.queues,
      checks: deps.checks,
      store: deps.store,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await deps.state.recordFailure(name, { at: now().toISOString(), batch, message });
    throw error;
  }
  await deps.state.clearFailure(name);
  log.info(
    {
      lines: enqueued.lines,
      enqueued: enqueued.enqueued,
      alreadyRecorded: enqueued.alreadyRecorded,
      alreadyQueued: enqueued.alreadyQueued,
      invalid: enqueued.invalid,
    },
    `schedule ${name}: batch ${batch} enqueued`,
  );
  return { kind: 'enqueued', batch, enqueued };
}

/** The schedule's previous batch if it is still running (and is not this firing's own batch). */
async function runningPrevious(state: ScheduleState, batch: string, store: ResultStore): Promise<BatchSummary | null> {
  const previous = state.lastBatch;
  if (previous === null || previous === batch) return null;
  if (state.lastError?.batch === previous) return null;
  const summary = await store.summary(previous);
  if (summary === null) return null;
  return isBatchFinished(summary) ? null : summary;
}

export { isBatchFinished };
