/**
 * A batch's failure-rate guard as users give and read it (README: Batch control): `--max-failure-rate
 * 5%` and `--failure-window N` at enqueue, and what `status` says of it. The counting itself is the
 * workers' (src/money/failure-guard.ts).
 */
import { DEFAULT_FAILURE_WINDOW, MAX_FAILURE_WINDOW } from '../config/defaults.js';
import { InvalidInputError } from '../errors/errors.js';
import { describeTrip, formatRate, type FailureGuardSetting } from '../money/failure-guard.js';
import type { BatchSpend } from '../money/batch-terms.js';

export type { FailureGuardSetting, GuardTrip } from '../money/failure-guard.js';

/** The guard's options as the user gives them. */
export interface FailureGuardArgs {
  /** The share of the last `failureWindow` finished lines that may fail on the vendor's side: `5%`, `2.5%`, `5`. */
  readonly maxFailureRate?: string | undefined;
  /** Finished lines the share is taken over. Default {@link DEFAULT_FAILURE_WINDOW}. */
  readonly failureWindow?: number | undefined;
}

/** The guard checked for form; undefined when none is asked for. @throws InvalidInputError naming the flag. */
export function parseFailureGuard(args: FailureGuardArgs): FailureGuardSetting | undefined {
  if (args.maxFailureRate === undefined) {
    if (args.failureWindow !== undefined) throw new InvalidInputError('--failure-window goes with --max-failure-rate (e.g. --max-failure-rate 5% --failure-window 200)');
    return undefined;
  }
  const match = /^(\d{1,2}(\.\d{1,4})?)\s*%?$/.exec(args.maxFailureRate.trim());
  if (!match) throw new InvalidInputError(`--max-failure-rate must be a percentage from 0 to below 100, such as 5% or 2.5% (got ${JSON.stringify(args.maxFailureRate)})`);
  const window = args.failureWindow ?? DEFAULT_FAILURE_WINDOW;
  if (!Number.isSafeInteger(window) || window < 1 || window > MAX_FAILURE_WINDOW) {
    throw new InvalidInputError(`--failure-window must be a whole number of lines from 1 to ${MAX_FAILURE_WINDOW}`);
  }
  return { ratePpm: Math.round(Number(match[1]) * 10_000), window };
}

/** `status`'s line of a batch with a guard: `guard      --max-failure-rate 5% of the last 100 lines: 2 failed of the last 37`. */
export function describeFailureGuard(spend: Pick<BatchSpend, 'failureGuard'>): string | undefined {
  const g = spend.failureGuard;
  if (g === null) return undefined;
  return `guard      --max-failure-rate ${formatRate(g.ratePpm)} of the last ${g.window} finished lines: ${g.failed} failed of the last ${g.seen}`;
}

/** Why a batch the guard paused waits, for `status`: the counts, the last cause, what to do. */
export function describeGuardPause(batch: string, spend: Pick<BatchSpend, 'guardTrip'>): string | undefined {
  const trip = spend.guardTrip;
  if (trip === null) return undefined;
  return `paused by its failure-rate guard: ${describeTrip(trip)}; its lines wait (fix the cause, then rescreen batch resume ${batch})`;
}
