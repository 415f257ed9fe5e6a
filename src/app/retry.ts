/**
 * Filtered redrive (README: Operating batches): re-enqueue a batch's `failed` lines — all of them, or
 * those of some causes, a vendor, a check, failed since a time — after saying how many and what they
 * would cost at the batch's own prices; `dryRun` only says it. Rejected lines are never re-sent.
 */
import { queueingS3Lines, requeueingS3Jobs } from './s3-credentials.js';
import type { Vendor } from '../vendors/types.js';
import { InvalidInputError, NotFoundError } from '../errors/errors.js';
import type { Micros } from '../money/batch-budget.js';
import { retryFailed, type RetryCounts, type RetryFilter } from '../queueing/retry.js';
import type { Runtime } from '../runtime/runtime.js';
import { batchTerms, priceVar } from './budget.js';
import { batchState, reopenBatch, type BatchState } from './control.js';

export type { RetryCounts, RetryFilter } from '../queueing/retry.js';

/** A retry's options as the user gives them (CLI flags, the API's JSON body). */
export interface RetryArgs {
  /** Only lines whose `error.code` is one of these (`VENDOR_TIMEOUT`, `HTTP_503`, OOTO's `5` as `'5'`). */
  readonly codes?: readonly string[] | undefined;
  /** Only lines of this vendor's checks. */
  readonly vendor?: string | undefined;
  /** Only lines of this check. */
  readonly check?: string | undefined;
  /** Only lines that failed at or after this time: ISO 8601, or a duration back from now (`90s`, `30m`, `2h`, `7d`). */
  readonly since?: string | undefined;
  /** Count and price only; enqueue and change nothing. */
  readonly dryRun?: boolean | undefined;
}

/** What the re-sent lines would cost at the batch's prices: one paid call each at least, RESCREEN_MAX_CALLS_PER_LINE at most. */
export interface RetryCost {
  readonly currency: string;
  /** Per vendor, one paid call per line; null when the batch has no price for a vendor with lines. */
  readonly perVendor: Readonly<Record<Vendor, Micros | null>>;
  readonly total: Micros | null;
  /** Paid calls at least (one per line) and at most (each line spending its whole call budget again). */
  readonly calls: number;
  readonly maxCalls: number;
  readonly maxCallsPerLine: number;
  /** The cost of `maxCalls`; null as `total`. */
  readonly maxTotal: Micros | null;
  /** Each vendor's price variable, for telling what to set. */
  readonly priceVars: Readonly<Record<Vendor, string>>;
}

/** What `rescreen retry` and `POST /api/batches/{id}/retry` show. */
export interface RetrySummary extends RetryCounts {
  /** The filter as applied (`since` as an ISO time). */
  readonly filter: { readonly codes?: readonly string[]; readonly vendor?: Vendor; readonly check?: string; readonly since?: string };
  readonly cost: RetryCost;
  /** The batch's state after the retry: a paused batch's re-sent lines wait for `batch resume`. */
  readonly state: BatchState;
}

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * `--since`: an ISO 8601 date or time (`2026-03-01`, `2026-03-01T08:00:00Z`), or a duration back from
 * `now` (`90s`, `30m`, `2h`, `7d`). @throws InvalidInputError for anything else.
 */
export function parseSince(text: string, now: Date = new Date()): Date {
  const trimmed = text.trim();
  const duration = /^([1-9]\d{0,8})(s|m|h|d)$/.exec(trimmed);
  if (duration) return new Date(now.getTime() - Number(duration[1]) * UNIT_MS[duration[2] as keyof typeof UNIT_MS]);
  const at = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
  if (Number.isNaN(at)) throw new InvalidInputError(`--since ${JSON.stringify(text)}: give an ISO time (2026-03-01T08:00:00Z) or a duration back from now (90s, 30m, 2h, 7d)`);
  return new Date(at);
}

/** The user's filter, checked against the registered vendors and checks. @throws InvalidInputError naming the option. */
export function parseRetryFilter(runtime: Pick<Runtime, 'vendors' | 'checks'>, args: RetryArgs, now?: Date): RetryFilter {
  const vendors = runtime.vendors.map((v) => v.name);
  if (args.vendor !== undefined && !vendors.includes(args.vendor)) throw new InvalidInputError(`--vendor ${JSON.stringify(args.vendor)}: must be one of ${vendors.join(', ')}`);
  if (args.check !== undefined && !runtime.checks.has(args.check)) {
    throw new InvalidInputError(`--check ${JSON.stringify(args.check)}: must be one of ${runtime.checks.names.join(', ')}`);
  }
  const codes = args.codes?.map((c) => c.trim()).filter((c) => c !== '');
  if (args.codes !== undefined && (codes === undefined || codes.length === 0)) throw new InvalidInputError('--code needs at least one error code, e.g. VENDOR_TIMEOUT,HTTP_503');
  return {
    ...(codes !== undefined ? { codes } : {}),
    ...(args.vendor !== undefined ? { vendor: args.vendor } : {}),
    ...(args.check !== undefined ? { check: args.check } : {}),
    ...(args.since !== undefined ? { since: parseSince(args.since, now) } : {}),
  };
}

/**
 * Re-enqueues the batch's `failed` lines the filter picks (never `rejected` ones), or with `dryRun`
 * only counts and prices them. A cancelled batch runs again once a line is re-sent.
 * @throws NotFoundError when there is no such batch; InvalidInputError for an unusable filter.
 */
export async function retryBatch(runtime: Runtime, batch: string, args: RetryArgs = {}): Promise<RetrySummary> {
  const filter = parseRetryFilter(runtime, args);
  const counts = await retryFailed({
    batch,
    store: runtime.store,
    checks: runtime.checks,
    queues: runtime.queues,
    filter,
    dryRun: args.dryRun === true,
    // A cancelled batch runs again: its CANCELLED lines are `failed` records like any other.
    beforeEnqueue: () => reopenBatch(runtime, batch),
    // Lines that fetch s3:// media again: credentials now (exit 2 otherwise), and work will need them.
    onS3Line: () => queueingS3Lines(runtime, batch),
    // …and which of its jobs those are: a finished batch's summary does not tell that they are queued.
    onS3Jobs: (jobIds) => requeueingS3Jobs(runtime, batch, jobIds),
  });
  if (!counts) throw new NotFoundError(`no batch ${JSON.stringify(batch)}`);
  const { since, ...rest } = filter;
  return {
    ...counts,
    filter: { ...rest, ...(since ? { since: since.toISOString() } : {}) },
    cost: await retryCost(runtime, batch, counts.byVendor),
    state: await batchState(runtime, batch),
  };
}

/** The cost of `lines` per vendor at the batch's own prices (a batch without terms: this process's). */
async function retryCost(runtime: Runtime, batch: string, lines: Readonly<Record<Vendor, number>>): Promise<RetryCost> {
  const { terms } = await batchTerms(runtime, batch);
  const maxCallsPerLine = runtime.config.worker.maxCallsPerLine;
  const perVendor: Record<Vendor, Micros | null> = {};
  const priceVars: Record<Vendor, string> = {};
  let total: Micros | null = 0;
  let calls = 0;
  for (const vendor of runtime.vendors.map((v) => v.name)) {
    const n = lines[vendor] ?? 0;
    const price = terms.prices[vendor];
    const cost = price === undefined ? (n === 0 ? 0 : null) : n * price;
    perVendor[vendor] = cost;
    priceVars[vendor] = priceVar(runtime, vendor);
    total = total === null || cost === null ? null : total + cost;
    calls += n;
  }
  return {
    currency: terms.currency,
    perVendor,
    total,
    calls,
    maxCalls: calls * maxCallsPerLine,
    maxCallsPerLine,
    maxTotal: total === null ? null : total * maxCallsPerLine,
    priceVars,
  };
}
