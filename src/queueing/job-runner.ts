/**
 * One job's life, independent of BullMQ: skip if already recorded → process → decide, by the one
 * retry policy, whether the outcome is a record, a retry, a rate-limit requeue or a stop of the
 * vendor. The BullMQ adapter (worker-pool.ts) acts on the returned step; this module is unit-testable
 * with an in-memory store and no Redis.
 */
import { withCallContext } from '../vendors/observer.js';
import type { ProcessorDeps } from '../checks/processor.js';
import type { CheckRegistry } from '../checks/registry.js';
import type { Vendor } from '../vendors/types.js';
import type { CheckOutcome, JobPayload, MediaDigest, ResultRecord } from '../checks/types.js';
import type { BatchHeldError, QuotaWaitError } from '../errors/errors.js';
import { BatchCancelledError, CallBudgetExhaustedError, ErrorCodes, RateLimitedError, RescreenError, VendorError } from '../errors/errors.js';
import { dispositionOf, retryDelay, type BackoffOptions } from '../errors/retry-policy.js';
import type { PutResult, ResultStore } from '../store/types.js';
import { budgetHooks, budgetMessage, holdError, shareVendorCalls, type CallBudget, type Tally } from '../money/call-budget.js';
import { CallTrail } from '../records/call-trail.js';
import { failedRecord, lineRecord, mayRecord, type Failure } from '../records/line-record.js';
import type { ReusedFrom } from '../money/dedupe.js';
import { heldStep, unavailableStep, type HeldStep, type OutageDeps, type UnavailableStep } from './wait-steps.js';

export interface JobRunnerDeps {
  readonly store: ResultStore;
  /** The checks: each job's module (its processor, its vendor, the record fields it adds). */
  readonly checks: CheckRegistry;
  /** The processor dependencies of a vendor's checks: its client and its media loader. */
  readonly depsFor: (vendor: Vendor) => ProcessorDeps;
  /** A job sent back by 429 more often than this ends `failed` (`HTTP_429`, stoppedBy `rate-limited`). */
  readonly maxRateLimited: number;
  /** Delay used for a 429 without Retry-After (GLAIR never sends one). */
  readonly rateLimitBackoff: BackoffOptions;
  /** Removes credentials from free text (error messages, and every string of a stored vendor answer). */
  readonly redact: (text: string) => string;
  /** Most bytes of a vendor answer kept in a record (RESCREEN_MAX_RESPONSE_BYTES); default 64 KiB. */
  readonly maxResponseBytes?: number;
  /** RESCREEN_KEEP_RESPONSE (default `minimal`): `minimal` drops the vendor's demography and landmarks from stored answers; left out, the answer is kept whole. */
  readonly keepResponse?: 'full' | 'minimal';
  /** The attempt log's worker id; default `host:pid`. */
  readonly workerId?: string;
  /** The origin (scheme, host, port) of the endpoint a vendor's calls go to, for the attempt log. */
  readonly endpointOf?: (vendor: Vendor) => string | null;
  /** Records that a call of the batch to the vendor got an answer under this worker's settings (the store's run settings). */
  readonly recordRunSettings?: (batch: string, vendor: Vendor) => Promise<void>;
  /** Vendor calls per line over all attempts (RESCREEN_MAX_CALLS_PER_LINE); none when absent. */
  readonly callBudget?: CallBudget;
  /**
   * How long a job of a held batch (paused, at its cap, of another store) waits before it looks
   * again, ms; for a pause or a cap it doubles each time the same job finds its batch still held,
   * up to HELD_MAX_MS (./wait-steps.ts; resume and raise bring the jobs back at once). Default 5000.
   */
  readonly heldRecheckMs?: number;
  /** Each vendor's circuit breaker in this process: how long a job whose call met a gateway failure waits. */
  readonly breakerOf?: OutageDeps['breakerOf'];
  /** Told of every record this runner has just written to the store, with what the store said (counts, metrics, a review rescan). */
  readonly onWritten?: (record: ResultRecord, result: PutResult) => Promise<void>;
  /** Told of every record this runner stores, with the error that ended the line (null when completed): the failure-rate guard. */
  readonly onRecorded?: (record: ResultRecord, cause: unknown) => Promise<void>;
  readonly now?: () => Date;
}

export interface JobAttempt {
  readonly payload: JobPayload;
  /** 1-based number of this BullMQ attempt. */
  readonly attempt: number;
  /** BullMQ attempts allowed in total. */
  readonly maxAttempts: number;
}

/** What the worker must do next. */
export type JobStep =
  | { readonly kind: 'recorded'; readonly record: ResultRecord }
  | { readonly kind: 'skipped'; readonly existing: ResultRecord }
  | { readonly kind: 'retry'; readonly error: unknown }
  | { readonly kind: 'rate-limited'; readonly delayMs: number; readonly timesLimited: number }
  /** No quota slot for `delayMs`: back to the queue, no attempt spent, not counted as rate-limited. */
  | { readonly kind: 'deferred'; readonly delayMs: number; readonly reason: string }
  | HeldStep
  | UnavailableStep
  | { readonly kind: 'stop-vendor'; readonly error: VendorError };

export async function runJob(input: JobAttempt, deps: JobRunnerDeps, signal?: AbortSignal): Promise<JobStep> {
  const { payload } = input;
  const tally: Trace = { calls: 0, possiblyBilled: 0 };
  // The batch's word first (one read): a batch of another store is not this worker's to look up
  // at all; a paused or capped one loads no media and takes no quota permit.
  const hold = await deps.callBudget?.ledger.look(payload.batch);
  if (hold?.kind === 'store') return decideOnError(input, holdError(payload.batch, hold), deps, tally);
  const existing = await deps.store.get(payload.batch, payload.line);
  // At least once: a repeat (stalled job, re-enqueue race) never calls the vendor again for a line
  // that has its record (mayRecord).
  if (existing && !mayRecord(payload, existing)) return { kind: 'skipped', existing };
  if (hold) return decideOnError(input, holdError(payload.batch, hold), deps, tally);

  const check = deps.checks.get(payload.check);
  // Every vendor call of the line counts against its budget; a retry run gets a fresh one.
  const run = payload.retry === true && existing ? existing.finishedAt : '';
  const line = { batch: payload.batch, line: payload.line, run, dedupe: payload.dedupe === true };
  // Every answered call goes to the attempt log; the bytes sent are digested for the record.
  const trail = new CallTrail(payload, input.attempt, deps.workerId, deps.now, deps.endpointOf);
  const observed = trail.observe(deps.depsFor(check.vendor), check.vendor);
  const shared = deps.callBudget?.shared;
  const processorDeps = shared !== undefined && payload.dedupe === true ? shareVendorCalls(observed, shared, line, tally, check.vendor) : observed;
  // Each vendor call is charged (and passes the batch's gate) when it leaves, after its quota permit.
  const hooks = deps.callBudget ? budgetHooks(deps.callBudget, line, tally) : undefined;
  let outcome: CheckOutcome;
  try {
    // Names the check on every vendor call the processor makes (metrics labels), with the job's hooks.
    outcome = await withCallContext(payload.check, () => check.processor(payload, processorDeps, signal), hooks);
  } catch (error) {
    await flushTrail(trail, deps, payload.batch, check.vendor);
    tally.media = trail.media ?? tally.reusedMedia;
    return decideOnError(input, error, deps, tally);
  }
  await flushTrail(trail, deps, payload.batch, check.vendor);
  tally.media = trail.media ?? tally.reusedMedia;
  const record = lineRecord(input, deps, {
    status: 'completed',
    transactionId: outcome.transactionId,
    verdict: outcome.verdict,
    score: outcome.score,
    error: null,
    response: outcome.response,
    ...deps.checks.recordFieldsOf(payload.check, outcome),
    ...billed(tally),
  });
  await writeRecord(record, deps);
  await deps.onRecorded?.(record, null);
  return { kind: 'recorded', record };
}

/** The job's attempt rows to the log and, when a call was answered, the settings it was answered under. */
async function flushTrail(trail: CallTrail, deps: JobRunnerDeps, batch: string, vendor: Vendor): Promise<void> {
  const answered = await trail.flush(deps.store);
  if (answered > 0) await deps.recordRunSettings?.(batch, vendor);
}

/** The call counts of a job, and the media its latest call sent. */
type Trace = Tally & { media?: readonly MediaDigest[] | undefined };

/**
 * `{possiblyBilled: n}` when some of the line's calls were sent and got no answer; `{media}` when
 * media was sent; `{reusedFrom}` for a `--dedupe` reuse.
 */
function billed(tally: Trace): { possiblyBilled?: number; media?: readonly MediaDigest[]; reusedFrom?: ReusedFrom } {
  return {
    ...(tally.possiblyBilled > 0 ? { possiblyBilled: tally.possiblyBilled } : {}),
    ...(tally.media ? { media: tally.media } : {}),
    ...(tally.reusedFrom !== undefined ? { reusedFrom: tally.reusedFrom } : {}),
  };}

async function decideOnError(input: JobAttempt, error: unknown, deps: JobRunnerDeps, tally: Trace): Promise<JobStep> {
  const disposition = dispositionOf(error);
  // A gateway failure is the vendor's outage: back with nothing spent, unless this line alone keeps meeting it.
  const unavailable = disposition === 'unavailable' ? unavailableStep(input, error as VendorError, deps) : undefined;
  if (unavailable) return unavailable;
  switch (disposition) {
    case 'stop-vendor':
      // dispositionOf only says stop-vendor for vendor auth errors.
      return { kind: 'stop-vendor', error: error as VendorError };
    case 'deferred': {
      const wait = error as QuotaWaitError;
      return { kind: 'deferred', delayMs: wait.waitMs, reason: wait.message };
    }
    case 'held':
      return heldStep(input.payload, error as BatchHeldError, deps.heldRecheckMs ?? 5_000);
    case 'rate-limited': {
      const timesLimited = (input.payload.rateLimited ?? 0) + 1;
      if (timesLimited <= deps.maxRateLimited) {
        const retryAfterMs = error instanceof RateLimitedError ? error.retryAfterMs : undefined;
        return { kind: 'rate-limited', timesLimited, delayMs: retryDelay(timesLimited, deps.rateLimitBackoff, retryAfterMs) };
      }
      // The cause stays the 429; the limit that ended the line is `stoppedBy`.
      const why = `the vendor refused this job with 429 ${timesLimited} times (limit RESCREEN_MAX_RATE_LIMITED=${deps.maxRateLimited})`;
      return recordFailure(input, error, deps, tally, { stop: { stoppedBy: 'rate-limited', why } });
    }
    case 'unavailable':
    case 'retry':
      if (deps.callBudget && error instanceof VendorError && tally.calls >= deps.callBudget.maxCallsPerLine) {
        // Another attempt would make one call more than the line may cost: end it here, with its cause.
        const why = budgetMessage(tally.calls, tally.possiblyBilled, deps.callBudget.maxCallsPerLine);
        return recordFailure(input, error, deps, tally, { stop: { stoppedBy: 'call-budget', why } });
      }
      if (input.attempt < input.maxAttempts) return { kind: 'retry', error };
      return recordFailure(input, error, deps, tally, { stop: { stoppedBy: 'attempts', why: `retries exhausted: ${input.maxAttempts} attempts (RESCREEN_ATTEMPTS)` } });
    case 'rejected':
      return recordFailure(input, error, deps, tally, { status: 'rejected' });
    case 'failed':
      // The budget was used before this attempt could call (a worker died mid-call): no other cause is known.
      if (error instanceof CallBudgetExhaustedError) return recordFailure(input, error, deps, tally, { stop: { stoppedBy: 'call-budget' } });
      return recordFailure(input, error, deps, tally);
  }
}

/** The line's `failed` / `rejected` record for `error`, stored: the runner's one way to end a line that failed. */
async function recordFailure(input: JobAttempt, error: unknown, deps: JobRunnerDeps, tally: Trace, failure?: Omit<Failure, 'error' | 'billed'>): Promise<JobStep> {
  const record = failedRecord(input, { ...failure, error, billed: billed(tally) }, deps);
  await writeRecord(record, deps);
  await deps.onRecorded?.(record, error);
  return { kind: 'recorded', record };
}

/**
 * A job BullMQ gave up without running it (its workers died mid-job too often: the job "stalled
 * more than allowable limit"). Writes a `failed` record unless the line already has one, so the
 * line is still accounted for (and `rescreen retry` can send it again).
 */
export async function recordLostJob(input: JobAttempt, reason: string, deps: Pick<JobRunnerDeps, 'store' | 'onWritten' | 'redact' | 'now'>): Promise<ResultRecord | null> {
  // Any record of the line stands, even a failed one a retry run would replace: this job never ran.
  if (await deps.store.get(input.payload.batch, input.payload.line)) return null;
  const record = failedRecord(input, { error: new RescreenError(ErrorCodes.WORKER_LOST, `BullMQ gave the job up: ${reason}`) }, deps);
  await writeRecord(record, deps);
  return record;
}

/**
 * The `failed` (CANCELLED) record of a line `rescreen batch cancel` took off the queue before it was
 * sent; null (nothing written) when the line has a record already.
 */
export async function recordCancelledJob(input: JobAttempt, deps: Pick<JobRunnerDeps, 'store' | 'onWritten' | 'redact' | 'now'>): Promise<ResultRecord | null> {
  if (!mayRecord(input.payload, await deps.store.get(input.payload.batch, input.payload.line))) return null;
  const error = new BatchCancelledError(`batch ${input.payload.batch} was cancelled before this line was sent (rescreen retry sends it)`);
  const record = failedRecord(input, { error }, deps);
  await writeRecord(record, deps);
  return record;
}

/** The one way this module writes a record: the store's put, then the runner's `onWritten` hook. */
async function writeRecord(record: ResultRecord, deps: Pick<JobRunnerDeps, 'store' | 'onWritten'>): Promise<void> {
  const result = await deps.store.put(record);
  await deps.onWritten?.(record, result);
}
