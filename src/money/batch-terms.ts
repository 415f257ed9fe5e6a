/**
 * What a batch owns, kept in its calls hash (./batch-budget.ts lists the fields): its terms —
 * currency, price per call of each vendor, the result store it was enqueued into — written at its
 * first enqueue and never changed by a worker; its caps; its state. Read back by `status`, the dry
 * run and the API.
 */
import type { Redis } from '../redis/client.js';
import { scripts } from '../redis/scripts.js';
import type { Vendor } from '../vendors/types.js';
import type { Micros } from './batch-budget.js';
import { TRIP_FIELDS, tripOf, type FailureGuardSetting, type GuardTrip } from './failure-guard.js';

/** A batch's own money and store, as recorded at its first enqueue. */
export interface BatchTerms {
  readonly currency: string;
  /** Price per call (micro-units) of each vendor priced at enqueue; a vendor absent has no price. */
  readonly prices: Readonly<Partial<Record<Vendor, Micros>>>;
  /** The result store the batch was enqueued into (`redis`, or `postgres://host:port/db?schema=…`). */
  readonly store: string;
}

/**
 * Records the batch's terms unless it has them (a batch's prices are its own from its first
 * enqueue; src/redis/lua/batch-terms-1.lua). Returns `{otherStore}` when the batch was enqueued
 * into another store.
 */
export async function recordBatchTerms(redis: Redis, key: string, terms: BatchTerms): Promise<{ readonly otherStore: string } | null> {
  const prices = Object.entries(terms.prices).flatMap(([vendor, micros]) => (micros === undefined ? [] : [vendor, String(micros)]));
  const reply = await scripts.batchTerms(redis, { callsKey: key, store: terms.store, currency: terms.currency, prices });
  return reply[0] === -1 ? { otherStore: reply[1] } : null;
}

/** The batch's terms; null for a batch enqueued before batches kept them (or not enqueued yet). */
export async function readBatchTerms(redis: Redis, key: string, vendors: readonly Vendor[]): Promise<BatchTerms | null> {
  const [currency, store, ...prices] = await redis.hmget(key, 'currency', 'store', ...vendors.map((v) => `price:${v}`));
  return termsOf(currency ?? null, store ?? null, vendors, prices);
}

function termsOf(currency: string | null, store: string | null, vendors: readonly Vendor[], prices: readonly (string | null)[]): BatchTerms | null {
  if (currency === null) return null;
  const priced: Partial<Record<Vendor, Micros>> = {};
  vendors.forEach((vendor, i) => {
    const p = prices[i];
    if (p !== null && p !== undefined) priced[vendor] = Number(p);
  });
  return { currency, prices: priced, store: store ?? '' };
}

/** A batch's caps; `null` removes one. */
export interface BatchCaps {
  readonly maxCalls?: number | null;
  readonly maxSpend?: Micros | null;
}

/** Sets (or removes) caps; the batch's held jobs are then promoted by the caller. */
export async function setBatchCaps(redis: Redis, key: string, caps: BatchCaps): Promise<void> {
  const tx = redis.multi();
  if (caps.maxCalls !== undefined) {
    if (caps.maxCalls === null) tx.hdel(key, 'cap:calls');
    else tx.hset(key, 'cap:calls', String(caps.maxCalls));
  }
  if (caps.maxSpend !== undefined) {
    if (caps.maxSpend === null) tx.hdel(key, 'cap:spend');
    else tx.hset(key, 'cap:spend', String(caps.maxSpend));
  }
  tx.hdel(key, 'held');
  await tx.exec();
}

/** A batch's paid calls and spend so far, its caps and terms, whether a cap held a call back, and its state. */
export interface BatchSpend {
  readonly paidCalls: Readonly<Partial<Record<Vendor, number>>>;
  readonly totalPaidCalls: number;
  /** Spend at the batch's prices (for a batch without terms: the reader's); vendors without a price count 0. */
  readonly spend: Micros;
  readonly maxCalls: number | null;
  readonly maxSpend: Micros | null;
  /** The cap that refused a call since the caps were last set; null when none has. */
  readonly held: 'calls' | 'spend' | null;
  /** As `batch pause | resume | cancel` left it (read in the same round trip). */
  readonly state: BatchState;
  /** The batch's own terms; null for a batch enqueued before batches kept them. */
  readonly terms: BatchTerms | null;
  /** Calls counted by workers on another result store than the reader's: their answers are recorded there, not here. */
  readonly paidElsewhere: number;
  /** `--max-failure-rate` (./failure-guard.ts), with the failures in its window now; null when the batch has none. */
  readonly failureGuard: (FailureGuardSetting & { readonly failed: number; readonly seen: number }) | null;
  /** Set when the failure-rate guard paused the batch (and it has not been resumed since). */
  readonly guardTrip: GuardTrip | null;
}

/**
 * One HMGET. `store`: the reader's store identity; `fallbackPrices`: the reader's prices, used only
 * for a batch without terms.
 */
export async function readBatchSpend(
  redis: Redis,
  key: string,
  reader: { readonly vendors: readonly Vendor[]; readonly store: string; readonly fallbackPrices: Readonly<Partial<Record<Vendor, Micros>>> },
): Promise<BatchSpend> {
  const { vendors } = reader;
  const fixed = ['cap:calls', 'cap:spend', 'held', 'state', 'paid', 'spend', `paid@${reader.store}`, 'paid@unknown', 'currency', 'store', 'guard:seq', 'guard:failed', ...TRIP_FIELDS] as const;
  const values = await redis.hmget(key, ...fixed, ...vendors.map((v) => `paid:${v}`), ...vendors.map((v) => `price:${v}`));
  const field = (name: (typeof fixed)[number]) => values[fixed.indexOf(name)] ?? null;
  const perVendor = values.slice(fixed.length, fixed.length + vendors.length);
  const terms = termsOf(field('currency'), field('store'), vendors, values.slice(fixed.length + vendors.length));
  const prices = terms?.prices ?? reader.fallbackPrices;
  const paidCalls: Partial<Record<Vendor, number>> = {};
  let total = 0;
  let spend = 0;
  vendors.forEach((vendor, i) => {
    const n = Math.max(0, Number(perVendor[i] ?? 0));
    paidCalls[vendor] = n;
    total += n;
    spend += n * (prices[vendor] ?? 0);
  });
  const running = field('paid');
  // The running totals when the gate keeps them (a batch a worker of this release has charged).
  if (running !== null) {
    total = Math.max(0, Number(running));
    spend = Math.max(0, Number(field('spend') ?? 0));
  }
  const counted = Number(field(`paid@${reader.store}`) ?? 0) + Number(field('paid@unknown') ?? 0);
  const held = field('held');
  const capCalls = field('cap:calls');
  const capSpend = field('cap:spend');
  const rate = field('guard:rate');
  const window = Number(field('guard:window') ?? 0);
  const failureGuard =
    rate === null ? null : { ratePpm: Number(rate), window, failed: Number(field('guard:failed') ?? 0), seen: Math.min(window, Number(field('guard:seq') ?? 0)) };
  return {
    paidCalls,
    totalPaidCalls: total,
    spend,
    maxCalls: capCalls === null ? null : Number(capCalls),
    maxSpend: capSpend === null ? null : Number(capSpend),
    held: held === 'calls' || held === 'spend' ? held : null,
    state: stateOf(field('state')),
    terms,
    paidElsewhere: running === null ? 0 : Math.max(0, total - counted),
    failureGuard,
    guardTrip: tripOf(TRIP_FIELDS.map(field)),
  };
}

/** What `batch pause | resume | cancel` set: the batch's lines wait, go on, or end `CANCELLED`. */
export type BatchState = 'running' | 'paused' | 'cancelled';

/** Sets the state; a reason the failure-rate guard left with an earlier pause goes with the change. */
export async function setBatchState(redis: Redis, key: string, state: BatchState): Promise<void> {
  const tx = redis.multi().hdel(key, ...PAUSE_FIELDS);
  if (state === 'running') tx.hdel(key, 'state');
  else tx.hset(key, 'state', state);
  await tx.exec();
}

/** What the failure-rate guard writes beside `state` when it pauses a batch (./failure-guard.ts). */
const PAUSE_FIELDS = ['pause:by', 'pause:failed', 'pause:seen', 'pause:code', 'pause:at'];

export async function readBatchState(redis: Redis, key: string): Promise<BatchState> {
  return stateOf(await redis.hget(key, 'state'));
}

function stateOf(field: string | null): BatchState {
  return field === 'paused' || field === 'cancelled' ? field : 'running';
}
