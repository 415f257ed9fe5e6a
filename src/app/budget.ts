/**
 * Money and budgets (README: Costs and budgets): what a batch would cost, what it has cost, and its
 * caps — `--max-calls N`, `--max-spend X` — enforced atomically before each paid call.
 */
import type { Vendor } from '../checks/registry.js';
import { priceVarOf } from '../config/config.js';
import { toMicros } from '../config/env-schema.js';
import { readBatchSpend, setBatchCaps, type BatchSpend, type Micros } from '../queues/batch-budget.js';
import { callsKey } from '../queues/call-budget.js';
import type { DryRunEstimate } from '../queues/estimate.js';
import type { Runtime } from '../runtime/runtime.js';
import { InvalidInputError, NotFoundError } from '../errors/errors.js';
import { isBatchFinished as isFinished, type BatchSummary } from '../store/types.js';

export type { BatchSpend, Micros } from '../queues/batch-budget.js';

/** Caps as the user gives them: a whole number of calls, a decimal amount of the currency. */
export interface CapArgs {
  readonly maxCalls?: number;
  readonly maxSpend?: string;
}

/** A batch's money, for `status` and the API. */
export interface BatchBudget extends BatchSpend {
  readonly currency: string;
  /** The batch's remaining lines wait: a cap is reached (or refused a call) and lines are left. */
  readonly budgetReached: boolean;
  /** Price variables of the vendors the batch paid calls to without a price set: its spend is then not known. */
  readonly unpriced: readonly string[];
}

/** What the dry run's paid calls would cost, per vendor and in total (`null`: a vendor with calls has no price). */
export interface DryRunCosts {
  readonly currency: string;
  readonly perVendor: Readonly<Record<Vendor, Micros | null>>;
  /** Each vendor's price variable (`OOTO_PRICE_PER_CALL`), for telling what to set. */
  readonly priceVars: Readonly<Record<Vendor, string>>;
  readonly total: Micros | null;
  /** The same with `--dedupe` (one call per distinct media); null as `total`. */
  readonly dedupeTotal: Micros | null;
}

/** `USD 12.50`, `EUR 0.0125`: at least 2 decimals, up to 6 when the amount has them. */
export function formatMoney(micros: Micros, currency: string): string {
  const units = micros / 1_000_000;
  let text = units.toFixed(6).replace(/0+$/, '');
  const decimals = text.split('.')[1]?.length ?? 0;
  if (decimals < 2) text = units.toFixed(2);
  return `${currency} ${text}`;
}

/** Checks caps before anything is written. @throws InvalidInputError naming the flag. */
export function checkCaps(runtime: Runtime, caps: CapArgs): { maxCalls?: number; maxSpend?: Micros } {
  const out: { maxCalls?: number; maxSpend?: Micros } = {};
  if (caps.maxCalls !== undefined) {
    if (!Number.isSafeInteger(caps.maxCalls) || caps.maxCalls < 0) throw new InvalidInputError('--max-calls must be a whole number ≥ 0');
    out.maxCalls = caps.maxCalls;
  }
  if (caps.maxSpend !== undefined) {
    if (!/^\d{1,12}(\.\d{1,6})?$/.test(caps.maxSpend.trim())) {
      throw new InvalidInputError(`--max-spend must be an amount such as 25 or 12.50 (got ${JSON.stringify(caps.maxSpend)})`);
    }
    const unpriced = vendorNames(runtime).filter((v) => runtime.config.pricing.perCall[v] === undefined);
    if (unpriced.length > 0) {
      // A vendor without a price would cost 0 and never stop the batch: refuse rather than overspend.
      const names = unpriced.map((v) => priceVar(runtime, v)).join(', ');
      throw new InvalidInputError(`--max-spend needs a price for every vendor: set ${names} (0 for a vendor you do not use)`);
    }
    out.maxSpend = toMicros(caps.maxSpend.trim());
  }
  return out;
}

/** Sets the batch's caps (before its jobs are enqueued, or to raise them later). */
export async function applyCaps(runtime: Runtime, batch: string, caps: { maxCalls?: number; maxSpend?: Micros }): Promise<void> {
  if (caps.maxCalls === undefined && caps.maxSpend === undefined) return;
  await setBatchCaps(runtime.redis, callsKey(runtime.config.prefix, batch), caps);
}

/**
 * `rescreen batch raise`: new caps for a batch; its waiting lines go on at their next look.
 * @throws NotFoundError for an unknown batch; InvalidInputError for unusable caps.
 */
export async function raiseBudget(runtime: Runtime, batch: string, caps: CapArgs): Promise<BatchBudget> {
  if ((await runtime.store.summary(batch)) === null) throw new NotFoundError(`no batch ${JSON.stringify(batch)}`);
  const checked = checkCaps(runtime, caps);
  if (checked.maxCalls === undefined && checked.maxSpend === undefined) throw new InvalidInputError('name a new cap: --max-calls N and/or --max-spend X');
  await applyCaps(runtime, batch, checked);
  const summary = await runtime.store.summary(batch);
  if (summary === null) throw new NotFoundError(`no batch ${JSON.stringify(batch)}`);
  return batchBudget(runtime, summary);
}

/** Paid calls and spend so far, the caps, and whether the batch waits at one. */
export async function batchBudget(runtime: Runtime, summary: BatchSummary): Promise<BatchBudget> {
  const { pricing } = runtime.config;
  const spend = await readBatchSpend(runtime.redis, callsKey(runtime.config.prefix, summary.batch), vendorNames(runtime), pricing.perCall);
  const atCap =
    spend.held !== null ||
    (spend.maxCalls !== null && spend.totalPaidCalls >= spend.maxCalls) ||
    (spend.maxSpend !== null && spend.spend >= spend.maxSpend);
  const unpriced = vendorNames(runtime)
    .filter((v) => (spend.paidCalls[v] ?? 0) > 0 && pricing.perCall[v] === undefined)
    .map((v) => priceVar(runtime, v));
  return { ...spend, currency: pricing.currency, budgetReached: atCap && !isFinished(summary), unpriced };
}

/** The cost of the dry run's paid calls at the configured prices. */
export function dryRunCosts(runtime: Runtime, estimate: DryRunEstimate): DryRunCosts {
  const { pricing } = runtime.config;
  const perVendor: Record<Vendor, Micros | null> = {};
  const priceVars: Record<Vendor, string> = {};
  let total: Micros | null = 0;
  let dedupeTotal: Micros | null = 0;
  for (const vendor of vendorNames(runtime)) {
    priceVars[vendor] = priceVar(runtime, vendor);
    const calls = estimate.vendors[vendor]?.paidCalls ?? 0;
    const price = pricing.perCall[vendor];
    const cost = price === undefined ? (calls === 0 ? 0 : null) : calls * price;
    perVendor[vendor] = cost;
    const distinct = estimate.vendors[vendor]?.distinctPaidCalls ?? 0;
    const dedupeCost = price === undefined ? (distinct === 0 ? 0 : null) : distinct * price;
    dedupeTotal = dedupeTotal === null || dedupeCost === null ? null : dedupeTotal + dedupeCost;
    total = total === null || cost === null ? null : total + cost;
  }
  return { currency: pricing.currency, perVendor, priceVars, total, dedupeTotal };
}

/** One line for `status`: `paid calls 10 (ooto 10, glair 0), spend USD 0.10; cap 10 calls (reached)`. */
export function describeBudget(budget: BatchBudget): string {
  const per = Object.entries(budget.paidCalls)
    .map(([v, n]) => `${v} ${n ?? 0}`)
    .join(', ');
  const caps: string[] = [];
  if (budget.maxCalls !== null) caps.push(`${budget.maxCalls} calls`);
  if (budget.maxSpend !== null) caps.push(formatMoney(budget.maxSpend, budget.currency));
  const cap = caps.length > 0 ? `; cap ${caps.join(' and ')}` : '';
  const reached = budget.budgetReached ? ' (reached)' : '';
  // Calls to a vendor without a price would count as free: say the spend is unknown instead.
  const spend = budget.unpriced.length > 0 ? `spend unknown (set ${budget.unpriced.join(', ')})` : `spend ${formatMoney(budget.spend, budget.currency)}`;
  return `paid calls ${budget.totalPaidCalls} (${per}), ${spend}${cap}${reached}`;
}

function vendorNames(runtime: Runtime): Vendor[] {
  return runtime.vendors.map((v) => v.name);
}

function priceVar(runtime: Runtime, vendor: Vendor): string {
  const spec = runtime.config.vendors[vendor]?.spec;
  return spec ? priceVarOf(spec) : `${vendor.toUpperCase()}_PRICE_PER_CALL`;
}
