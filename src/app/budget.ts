/**
 * Money and budgets (README: Costs and budgets): what a batch would cost, what it has cost, and its
 * caps — `--max-calls N`, `--max-spend X` — enforced atomically as each paid call leaves. A batch's
 * prices, currency and store are its own, recorded at its first enqueue: a worker's environment
 * never loosens its caps.
 */
import type { Vendor } from '../vendors/types.js';
import { toMicros } from '../config/env-schema.js';
import type { Micros } from '../money/batch-budget.js';
import { callsKey } from '../redis/keys.js';
import { readBatchSpend, readBatchTerms, setBatchCaps, type BatchSpend, type BatchTerms } from '../money/batch-terms.js';
import type { DryRunEstimate } from '../money/estimate.js';
import type { Runtime } from '../runtime/runtime.js';
import { recordTerms } from '../runtime/store.js';
import { InvalidInputError, NotFoundError } from '../errors/errors.js';
import { isBatchFinished as isFinished, type BatchSummary } from '../store/types.js';
import { promoteHeldJobs } from './control.js';
import { checkEnqueueOptions } from './enqueue-options.js';

export type { BatchSpend, BatchTerms } from '../money/batch-terms.js';
export type { Micros } from '../money/batch-budget.js';

/** Caps as the user gives them: a whole number of calls, a decimal amount of the currency. */
export interface CapArgs {
  readonly maxCalls?: number | undefined;
  readonly maxSpend?: string | undefined;
}

/** Caps checked for form. */
export interface Caps {
  readonly maxCalls?: number;
  readonly maxSpend?: Micros;
}

/** A batch's money, for `status` and the API. */
export interface BatchBudget extends BatchSpend {
  /** The batch's currency (this process's for a batch enqueued before batches kept their terms). */
  readonly currency: string;
  /** The batch's remaining lines wait: a cap is reached (or refused a call) and lines are left. */
  readonly budgetReached: boolean;
  /** Price variables of the vendors the batch paid calls to without a price: its spend is then not known. */
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

/** Checks caps for form (the enqueue options' rules), before anything is read or written. @throws InvalidInputError naming the flag. */
export function parseCaps(caps: CapArgs): Caps {
  const checked = checkEnqueueOptions({ ...(caps.maxCalls !== undefined ? { maxCalls: caps.maxCalls } : {}), ...(caps.maxSpend !== undefined ? { maxSpend: caps.maxSpend } : {}) });
  return {
    ...(checked.maxCalls !== undefined ? { maxCalls: checked.maxCalls } : {}),
    ...(checked.maxSpend !== undefined ? { maxSpend: toMicros(checked.maxSpend) } : {}),
  };
}

/**
 * The batch's terms: its own once enqueued (`stored`), else — a new batch, or one enqueued before
 * batches kept their terms — this process's prices, currency and store.
 */
export async function batchTerms(runtime: Runtime, batch: string): Promise<{ terms: BatchTerms; stored: boolean }> {
  const stored = await readBatchTerms(runtime.redis, callsKey(runtime.config.prefix, batch), vendorNames(runtime));
  if (stored) return { terms: stored, stored: true };
  const { pricing } = runtime.config;
  return { terms: { currency: pricing.currency, prices: pricing.perCall, store: runtime.storeIdentity }, stored: false };
}

/**
 * A spend cap needs a price for every vendor of the batch: one without would count as free and never
 * stop it, so rescreen refuses rather than overspend. @throws InvalidInputError naming the variables.
 */
export function requirePrices(runtime: Runtime, batch: string, caps: Caps, at: { terms: BatchTerms; stored: boolean }): void {
  if (caps.maxSpend === undefined) return;
  const unpriced = vendorNames(runtime).filter((v) => at.terms.prices[v] === undefined);
  if (unpriced.length === 0) return;
  const names = unpriced.map((v) => priceVar(runtime, v)).join(', ');
  if (!at.stored) throw new InvalidInputError(`--max-spend needs a price for every vendor: set ${names} (0 for a vendor you do not use)`);
  throw new InvalidInputError(
    `--max-spend needs a price for every vendor, and batch ${batch} was enqueued without ${names}: a batch's prices are its own from its first enqueue (enqueue under a new batch id with the price set)`,
  );
}

/**
 * At enqueue: records the batch's terms (its first enqueue; later ones keep them) and sets its caps,
 * before its first job can be taken. @throws InvalidInputError for a batch of another result store.
 */
export async function recordTermsAndCaps(runtime: Runtime, batch: string, caps: Caps): Promise<void> {
  await recordTerms(runtime.config, runtime.redis, runtime.storeIdentity, batch);
  if (caps.maxCalls !== undefined || caps.maxSpend !== undefined) await setBatchCaps(runtime.redis, callsKey(runtime.config.prefix, batch), caps);
}

/**
 * `rescreen batch raise`: new caps for a batch (at the batch's own prices); its waiting lines go on
 * at once (unless it is paused).
 * @throws NotFoundError for an unknown batch; InvalidInputError for unusable caps.
 */
export async function raiseBudget(runtime: Runtime, batch: string, caps: CapArgs): Promise<BatchBudget> {
  if ((await runtime.store.summary(batch)) === null) throw new NotFoundError(`no batch ${JSON.stringify(batch)}`);
  const checked = parseCaps(caps);
  if (checked.maxCalls === undefined && checked.maxSpend === undefined) throw new InvalidInputError('name a new cap: --max-calls N and/or --max-spend X');
  requirePrices(runtime, batch, checked, await batchTerms(runtime, batch));
  await setBatchCaps(runtime.redis, callsKey(runtime.config.prefix, batch), checked);
  const summary = await runtime.store.summary(batch);
  if (summary === null) throw new NotFoundError(`no batch ${JSON.stringify(batch)}`);
  const budget = await batchBudget(runtime, summary);
  if (budget.state === 'running') await promoteHeldJobs(runtime, batch);
  return budget;
}

/** Paid calls and spend so far, the caps, and whether the batch waits at one. */
export async function batchBudget(runtime: Runtime, summary: BatchSummary): Promise<BatchBudget> {
  const { pricing } = runtime.config;
  const spend = await readBatchSpend(runtime.redis, callsKey(runtime.config.prefix, summary.batch), {
    vendors: vendorNames(runtime),
    store: runtime.storeIdentity,
    fallbackPrices: pricing.perCall,
  });
  const prices = spend.terms?.prices ?? pricing.perCall;
  const atCap =
    spend.held !== null ||
    (spend.maxCalls !== null && spend.totalPaidCalls >= spend.maxCalls) ||
    (spend.maxSpend !== null && spend.spend >= spend.maxSpend);
  const unpriced = vendorNames(runtime)
    .filter((v) => (spend.paidCalls[v] ?? 0) > 0 && prices[v] === undefined)
    .map((v) => priceVar(runtime, v));
  return { ...spend, currency: spend.terms?.currency ?? pricing.currency, budgetReached: atCap && !isFinished(summary), unpriced };
}

/** What `status` warns of: paid calls whose answers this store does not hold. */
export function budgetWarnings(runtime: Runtime, budget: BatchBudget): string[] {
  if (budget.paidElsewhere === 0) return [];
  const n = budget.paidElsewhere;
  return [
    `${n} paid ${n === 1 ? 'call' : 'calls'} of this batch ${n === 1 ? 'was' : 'were'} made by workers on another result store than this one (${runtime.storeIdentity}): their answers are recorded there, not here`,
  ];
}

/** The cost of the dry run's paid calls at the batch's prices (a new batch: this process's). */
export function dryRunCosts(runtime: Runtime, estimate: DryRunEstimate, terms: BatchTerms): DryRunCosts {
  const perVendor: Record<Vendor, Micros | null> = {};
  const priceVars: Record<Vendor, string> = {};
  let total: Micros | null = 0;
  let dedupeTotal: Micros | null = 0;
  for (const vendor of vendorNames(runtime)) {
    priceVars[vendor] = priceVar(runtime, vendor);
    const calls = estimate.vendors[vendor]?.paidCalls ?? 0;
    const price = terms.prices[vendor];
    const cost = price === undefined ? (calls === 0 ? 0 : null) : calls * price;
    perVendor[vendor] = cost;
    const distinct = estimate.vendors[vendor]?.distinctPaidCalls ?? 0;
    const dedupeCost = price === undefined ? (distinct === 0 ? 0 : null) : distinct * price;
    dedupeTotal = dedupeTotal === null || dedupeCost === null ? null : dedupeTotal + dedupeCost;
    total = total === null || cost === null ? null : total + cost;
  }
  return { currency: terms.currency, perVendor, priceVars, total, dedupeTotal };
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

/** The vendor's price variable, as its definition names it (a vendor this build does not know: its name). */
export function priceVar(runtime: Runtime, vendor: Vendor): string {
  return runtime.vendors.find((v) => v.name === vendor)?.priceVar ?? `the price of ${vendor}`;
}
