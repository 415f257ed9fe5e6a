/**
 * Scheduled re-screens as the application layer offers them: add, list, remove, fire now. Plain
 * data out; InvalidInputError for a bad definition or name, NotFoundError for an unknown schedule.
 */
import { readCanarySet } from '../drift/canary-set.js';
import { InvalidInputError, NotFoundError } from '../errors/errors.js';
import { ManifestUnreadableError } from '../manifest/errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { recordTerms } from '../runtime/store.js';
import { assertScheduleName, buildDefinition, type ScheduleDefinition, type ScheduleInput } from '../schedules/definition.js';
import { InvalidScheduleError } from '../schedules/errors.js';
import { fireSchedule, type FiringOutcome } from '../schedules/firing.js';
import { ScheduleRepository, type ScheduleEntry } from '../schedules/repository.js';
import { ScheduleStateStore, type ScheduleState } from '../schedules/state.js';
import type { BatchSummary } from '../store/types.js';
import { setReviewRules } from '../review/queue.js';
import { describeReviewRules, parseReviewRules } from '../review/rules.js';

export { OVERLAP_POLICIES, type ScheduleInput } from '../schedules/definition.js';
export { describeRule } from '../schedules/rule.js';
export type { FiringOutcome, ScheduleEntry, ScheduleState };

/** Opens the schedule repository and state on the runtime's connection; closes the repository after `fn`. */
async function withSchedules<T>(runtime: Runtime, fn: (repo: ScheduleRepository, state: ScheduleStateStore) => Promise<T>): Promise<T> {
  const repo = new ScheduleRepository(runtime.redis, runtime.config.prefix);
  try {
    return await fn(repo, new ScheduleStateStore(runtime.redis, runtime.config.prefix));
  } finally {
    await repo.close();
  }
}

function asInputError(error: unknown): never {
  if (error instanceof InvalidScheduleError || error instanceof ManifestUnreadableError) throw new InvalidInputError(error.message, { cause: error });
  throw error;
}

function checkedName(name: string): string {
  try {
    assertScheduleName(name);
  } catch (error) {
    asInputError(error);
  }
  return name;
}

/** Validates and upserts a schedule. */
export async function addSchedule(runtime: Runtime, input: ScheduleInput): Promise<{ definition: ScheduleDefinition; existed: boolean; next: Date | null }> {
  let review: string | undefined;
  if (input.review !== undefined) {
    const parsed = parseReviewRules(input.review);
    if (!parsed.ok) throw new InvalidInputError(parsed.reason);
    review = describeReviewRules(parsed.rules);
  }
  if (input.canaryThreshold !== undefined && !(Number.isFinite(input.canaryThreshold) && input.canaryThreshold >= 0 && input.canaryThreshold <= 1)) {
    throw new InvalidInputError(`--canary-threshold must be a number from 0 to 1, such as 0.1 (got ${String(input.canaryThreshold)})`);
  }
  if (input.canaryThreshold !== undefined && input.canary === undefined) throw new InvalidInputError('--canary-threshold needs --canary (a canary set)');
  // The set is checked now (a bad line is refused here, not at 2 a.m.), and read again at each firing.
  if (input.canary !== undefined) await readCanarySet(input.canary, { checks: runtime.checks, ...(input.check !== undefined ? { checkOverride: input.check } : {}) });
  const definition = await buildDefinition({ ...input, ...(review !== undefined ? { review } : {}) }).catch(asInputError);
  return withSchedules(runtime, async (repo) => {
    const existed = (await repo.get(definition.name)) !== null;
    await repo.upsert(definition);
    const entry = await repo.get(definition.name);
    return { definition, existed, next: entry?.next ?? null };
  });
}

/** One schedule with its state and the summary of its last batch. */
export interface ScheduleView {
  readonly entry: ScheduleEntry;
  readonly state: ScheduleState;
  readonly lastSummary: BatchSummary | null;
}

/** Every schedule, soonest next run first. */
export async function listSchedules(runtime: Runtime): Promise<ScheduleView[]> {
  return withSchedules(runtime, async (repo, stateStore) => {
    const out: ScheduleView[] = [];
    for (const entry of await repo.list()) {
      const state = await stateStore.get(entry.name);
      const lastSummary = state.lastBatch !== null ? await runtime.store.summary(state.lastBatch) : null;
      out.push({ entry, state, lastSummary });
    }
    return out;
  });
}

/** Removes the scheduler, its pending firing and its state; its batches stay. */
export async function removeSchedule(runtime: Runtime, name: string): Promise<void> {
  checkedName(name);
  await withSchedules(runtime, async (repo, state) => {
    if (!(await repo.remove(name))) throw new NotFoundError(`no schedule ${JSON.stringify(name)}`);
    await state.delete(name);
  });
}

/** Fires a schedule now in this process (batch `<name>-<now>`), with its overlap rule unless `force`. */
export async function fireScheduleNow(runtime: Runtime, name: string, force: boolean, now: Date = new Date()): Promise<FiringOutcome> {
  checkedName(name);
  return withSchedules(runtime, async (repo, state) => {
    const entry = await repo.get(name);
    if (entry === null) throw new NotFoundError(`no schedule ${JSON.stringify(name)}`);
    if (entry.definition === null) throw new InvalidInputError(`schedule ${name}: stored definition unreadable (${entry.problem ?? '?'}); add it again`);
    const recordOwnTerms = (batch: string) => recordTerms(runtime.config, runtime.redis, runtime.storeIdentity, batch);
    const setReview = (batch: string, rules: string) => setReviewRules(runtime.redis, runtime.config.prefix, batch, rules);
    const deps = { queues: runtime.queues, checks: runtime.checks, store: runtime.store, state, log: runtime.log, recordTerms: recordOwnTerms, setReview };
    return fireSchedule(entry.definition, now, deps, { force }).catch(asInputError);
  });
}
