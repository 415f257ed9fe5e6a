/**
 * A batch's paid calls, spend and caps (`--max-calls`, `--max-spend`): kept in the batch's calls
 * hash next to the per-line counters, so one Lua script charges a call and checks every cap
 * atomically — with any number of workers, a cap is never passed by even one call.
 *
 * Fields of `<root>batch:<batch>:calls`: `paid:<vendor>` (calls counted), `cap:calls`,
 * `cap:spend` (micro-units of the currency), `held` (`calls` or `spend` once a call was refused),
 * `state` (`paused` or `cancelled`, set by `rescreen batch pause | cancel`).
 */
import type { Redis } from 'ioredis';
import type { Vendor } from '../checks/registry.js';

/** Money in millionths of the currency unit: integer arithmetic, no float drift over 10^7 calls. */
export type Micros = number;

/** What the charge script needs per call. */
export interface ChargeArgs {
  /** The line's counter field (`<line>[@run]`). */
  readonly field: string;
  readonly vendor: Vendor;
  /** Price per call of every vendor with a price set (a vendor without one costs 0). */
  readonly prices: Readonly<Partial<Record<Vendor, Micros>>>;
}

/** The reply of a charge: the line's counts, or the cap that refused the call. */
export type ChargeReply =
  | { readonly calls: number; readonly possiblyBilled: number }
  | { readonly held: 'calls' | 'spend' | 'paused' }
  | { readonly cancelled: true };

/**
 * The batch's gate, shared by both scripts: refuses (a negative reply) a cancelled or paused batch,
 * or a call past a cap, else counts the call to `paid:<vendor>`. ARGV: [1] the line's field (CHARGE
 * only), [2] the vendor, [3] its price, then (vendor, price) pairs of every priced vendor.
 */
const BATCH_GATE = `
local h = KEYS[1]
local state = redis.call('HGET', h, 'state')
if state == 'cancelled' then return {-4} end
if state == 'paused' then return {-3} end
local capCalls = tonumber(redis.call('HGET', h, 'cap:calls') or '-1')
local capSpend = tonumber(redis.call('HGET', h, 'cap:spend') or '-1')
local price = tonumber(ARGV[3])
if capCalls >= 0 or capSpend >= 0 then
  local paid, spend = 0, 0
  for i = 4, #ARGV, 2 do
    local n = tonumber(redis.call('HGET', h, 'paid:' .. ARGV[i]) or '0')
    paid = paid + n
    spend = spend + n * tonumber(ARGV[i + 1])
  end
  if capCalls >= 0 and paid + 1 > capCalls then
    redis.call('HSET', h, 'held', 'calls')
    return {-1}
  end
  if capSpend >= 0 and spend + price > capSpend then
    redis.call('HSET', h, 'held', 'spend')
    return {-2}
  end
end
redis.call('HINCRBY', h, 'paid:' .. ARGV[2], 1)
`;

/** The gate, then the line's counter: one round trip for the Redis ledger. */
const CHARGE = `${BATCH_GATE}
local calls = redis.call('HINCRBY', h, ARGV[1], 1)
local pb = 0
if calls > 1 then pb = tonumber(redis.call('HGET', h, ARGV[1] .. ':pb') or '0') end
return {calls, pb}
`;

/** The gate alone, for a ledger that keeps the line counters elsewhere (PostgreSQL): the caps stay atomic across the fleet all the same. */
const GATE = `${BATCH_GATE}
return {1, 0}
`;

/** The gate's refusals by reply code. */
const REFUSALS: Readonly<Record<number, Exclude<ChargeReply, { calls: number }>>> = {
  [-1]: { held: 'calls' },
  [-2]: { held: 'spend' },
  [-3]: { held: 'paused' },
  [-4]: { cancelled: true },
};

function pricesArgs(vendor: Vendor, prices: Readonly<Partial<Record<Vendor, Micros>>>): string[] {
  return [vendor, String(prices[vendor] ?? 0), ...Object.entries(prices).flatMap(([v, micros]) => [v, String(micros ?? 0)])];
}

interface BudgetCommands {
  rescreenCharge(key: string, ...args: (string | number)[]): Promise<[number, number?]>;
  rescreenGate(key: string, ...args: (string | number)[]): Promise<[number, number?]>;
}

function commands(redis: Redis): BudgetCommands {
  const r = redis as unknown as Partial<BudgetCommands>;
  if (r.rescreenCharge === undefined) {
    redis.defineCommand('rescreenCharge', { numberOfKeys: 1, lua: CHARGE });
    redis.defineCommand('rescreenGate', { numberOfKeys: 1, lua: GATE });
  }
  return redis as unknown as BudgetCommands;
}

/** The batch's gate alone: `{held}` / `{cancelled}`, or `null` when the call may go (and is counted to the batch). */
export async function gateCall(
  redis: Redis,
  key: string,
  vendor: Vendor,
  prices: Readonly<Partial<Record<Vendor, Micros>>>,
): Promise<Exclude<ChargeReply, { calls: number }> | null> {
  const [reply] = await commands(redis).rescreenGate(key, '', ...pricesArgs(vendor, prices));
  return REFUSALS[reply] ?? null;
}

/** Takes a call back from the batch's paid counter only. */
export async function refundBatchCall(redis: Redis, key: string, vendor: Vendor): Promise<void> {
  await redis.hincrby(key, `paid:${vendor}`, -1);
}

/** Charges one call of `vendor` to the line and the batch, unless a cap of the batch refuses it. */
export async function chargeCall(redis: Redis, key: string, args: ChargeArgs): Promise<ChargeReply> {
  const [calls, pb] = await commands(redis).rescreenCharge(key, args.field, ...pricesArgs(args.vendor, args.prices));
  return REFUSALS[calls] ?? { calls, possiblyBilled: pb ?? 0 };
}

/** Takes back a counted call that cost nothing (line and batch). */
export async function refundCall(redis: Redis, key: string, field: string, vendor: Vendor): Promise<void> {
  await redis.multi().hincrby(key, field, -1).hincrby(key, `paid:${vendor}`, -1).exec();
}

/** A batch's caps; `null` removes one. */
export interface BatchCaps {
  readonly maxCalls?: number | null;
  readonly maxSpend?: Micros | null;
}

/** Sets (or removes) caps; a raised cap lets held jobs go on at their next look. */
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

/** A batch's paid calls and spend so far, its caps, whether a cap has held a call back, and its state. */
export interface BatchSpend {
  readonly paidCalls: Readonly<Partial<Record<Vendor, number>>>;
  readonly totalPaidCalls: number;
  /** Spend at the configured prices; vendors without a price count 0. */
  readonly spend: Micros;
  readonly maxCalls: number | null;
  readonly maxSpend: Micros | null;
  /** The cap that refused a call since the caps were last set; null when none has. */
  readonly held: 'calls' | 'spend' | null;
  /** As `batch pause | resume | cancel` left it (read in the same round trip). */
  readonly state: BatchState;
}

export async function readBatchSpend(
  redis: Redis,
  key: string,
  vendors: readonly Vendor[],
  prices: Readonly<Partial<Record<Vendor, Micros>>>,
): Promise<BatchSpend> {
  const values = await redis.hmget(key, 'cap:calls', 'cap:spend', 'held', 'state', ...vendors.map((v) => `paid:${v}`));
  const paidCalls: Partial<Record<Vendor, number>> = {};
  let total = 0;
  let spend = 0;
  vendors.forEach((vendor, i) => {
    const n = Math.max(0, Number(values[4 + i] ?? 0));
    paidCalls[vendor] = n;
    total += n;
    spend += n * (prices[vendor] ?? 0);
  });
  const held = values[2];
  return {
    paidCalls,
    totalPaidCalls: total,
    spend,
    maxCalls: values[0] == null ? null : Number(values[0]),
    maxSpend: values[1] == null ? null : Number(values[1]),
    held: held === 'calls' || held === 'spend' ? held : null,
    state: stateOf(values[3] ?? null),
  };
}

/** What `batch pause | resume | cancel` set: the batch's lines wait, go on, or end `CANCELLED`. */
export type BatchState = 'running' | 'paused' | 'cancelled';

export async function setBatchState(redis: Redis, key: string, state: BatchState): Promise<void> {
  if (state === 'running') await redis.hdel(key, 'state');
  else await redis.hset(key, 'state', state);
}

export async function readBatchState(redis: Redis, key: string): Promise<BatchState> {
  return stateOf(await redis.hget(key, 'state'));
}

function stateOf(field: string | null): BatchState {
  return field === 'paused' || field === 'cancelled' ? field : 'running';
}
