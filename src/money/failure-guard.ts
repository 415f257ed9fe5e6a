/**
 * The failure-rate guard of a batch (`--max-failure-rate 5%`, `--failure-window N`; after AWS Step
 * Functions' ToleratedFailurePercentage): every line a worker finishes counts in a rolling window of
 * the batch's last N finished lines, fleet-wide, in the batch's calls hash (./batch-budget.ts); once
 * more than rate × N of them failed on the vendor's side, the batch is paused — the gate then lets
 * none of its calls leave — with the reason stored beside its state, so a misconfiguration (a wrong
 * base URL, a broken vendor endpoint) does not burn money. `batch resume` starts a fresh window.
 *
 * Fields (one hash, O(1) per line): `guard:rate` (parts per million), `guard:window` (N),
 * `guard:seq` (lines counted), `guard:failed` (failures in the window), `guard:<seq mod N>` (1 for a
 * failure, 0 for a line that went well); once tripped, `pause:by` (`failure-rate`), `pause:failed`,
 * `pause:seen`, `pause:code` (the last cause), `pause:at`.
 */
import type { Redis } from '../redis/client.js';
import type { Logger } from 'pino';
import type { ResultRecord } from '../checks/types.js';
import { CallBudgetExhaustedError, VendorError } from '../errors/errors.js';
import { callsKey } from '../redis/keys.js';
import { scripts } from '../redis/scripts.js';

/** A batch's guard, as set at enqueue. */
export interface FailureGuardSetting {
  /** The share of failed lines tolerated, parts per million (5 % is 50 000). */
  readonly ratePpm: number;
  /** Finished lines the share is taken over. */
  readonly window: number;
}

/** Why the guard paused a batch, as stored with its state. */
export interface GuardTrip extends FailureGuardSetting {
  /** Failed lines among the last `seen`. */
  readonly failed: number;
  /** Lines in the window when it tripped (fewer than `window` early in a batch). */
  readonly seen: number;
  /** The last failure's cause (`error.code`). */
  readonly code: string;
}

/** Fields of a trip, in {@link tripOf}'s order. */
export const TRIP_FIELDS = ['pause:by', 'pause:failed', 'pause:seen', 'pause:code', 'guard:rate', 'guard:window'] as const;

/** The trip from its fields as read (TRIP_FIELDS order); null unless the guard paused the batch. */
export function tripOf(values: readonly (string | null | undefined)[]): GuardTrip | null {
  const [by, failed, seen, code, rate, window] = values;
  if (by !== 'failure-rate') return null;
  return { failed: Number(failed ?? 0), seen: Number(seen ?? 0), code: code ?? '', ratePpm: Number(rate ?? 0), window: Number(window ?? 0) };
}

/** `5%`, `2.5%`. */
export function formatRate(ppm: number): string {
  return `${Number((ppm / 10_000).toFixed(4))}%`;
}

/** `6 of its last 100 finished lines failed on the vendor's side (more than --max-failure-rate 5% of 100), the last VENDOR_CONNECTION`. */
export function describeTrip(trip: GuardTrip): string {
  return (
    `${trip.failed} of its last ${trip.seen} finished lines failed on the vendor's side ` +
    `(more than --max-failure-rate ${formatRate(trip.ratePpm)} of ${trip.window}), the last ${trip.code}`
  );
}

/**
 * How a finished line counts: `'1'` a failure on the vendor's side (it cost calls and got no usable
 * answer), `'0'` a line the vendor answered; null for what says nothing of the vendor (media refused
 * or missing locally, a cancelled line, an unexpected error).
 */
export function guardOutcome(record: ResultRecord, cause: unknown): '0' | '1' | null {
  if (record.status === 'completed') return '0';
  if (record.status === 'rejected') return cause instanceof VendorError ? '0' : null;
  return cause instanceof VendorError || cause instanceof CallBudgetExhaustedError ? '1' : null;
}

/** Sets a batch's guard (at enqueue); a later enqueue without one keeps it, one with another window starts a fresh one. */
export async function setFailureGuard(redis: Redis, key: string, setting: FailureGuardSetting): Promise<void> {
  const window = await redis.hget(key, 'guard:window');
  if (window !== null && Number(window) !== setting.window) await resetFailureWindow(redis, key);
  await redis.hset(key, 'guard:rate', String(setting.ratePpm), 'guard:window', String(setting.window));
}

/** A fresh window (on `batch resume` of a batch the guard paused): the lines counted before no longer count. */
export async function resetFailureWindow(redis: Redis, key: string): Promise<void> {
  const window = Number((await redis.hget(key, 'guard:window')) ?? 0);
  const slots = Array.from({ length: Math.max(0, window) }, (_, i) => `guard:${i}`);
  await redis.hdel(key, 'guard:seq', 'guard:failed', ...slots);
}

/** The guard as the workers use it: told of every record they store (JobRunnerDeps.onRecorded). */
export class FailureRateGuard {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly log: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Counts the line in its batch's window and pauses the batch when it trips; never throws (the record is stored). */
  async observe(record: ResultRecord, cause: unknown): Promise<void> {
    const outcome = guardOutcome(record, cause);
    if (outcome === null) return;
    const code = String(record.error?.code ?? '');
    try {
      const callsKeyOfBatch = callsKey(this.prefix, record.batch);
      const [tripped, failed = 0, seen = 0, ratePpm = 0, window = 0] = await scripts.batchFailureGuard(this.redis, {
        callsKey: callsKeyOfBatch,
        outcome,
        code,
        nowIso: this.now().toISOString(),
      });
      if (tripped !== 1) return;
      const trip = { failed, seen, ratePpm, window, code };
      this.log.error({ batch: record.batch, ...trip }, `batch ${record.batch} paused by its failure-rate guard: ${describeTrip(trip)}; fix the cause, then rescreen batch resume ${record.batch}`);
    } catch (err) {
      this.log.warn({ batch: record.batch, err }, 'failure-rate guard: could not count a finished line');
    }
  }
}
