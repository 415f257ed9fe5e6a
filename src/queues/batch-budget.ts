/**
 * A batch's gate: its state (paused, cancelled), its caps (`--max-calls`, `--max-spend`) and its
 * store, checked — and the call charged — by one Lua script at the moment a call leaves (after the
 * quota permit), atomically for the whole fleet: a cap is never passed by even one call, and no
 * call leaves once `batch pause | cancel` has returned.
 *
 * Fields of `<root>batch:<batch>:calls` (besides the per-line counters of ./call-budget.ts, up to
 * one per line: never read the hash whole):
 * - `paid`, `spend`: running totals of the batch's calls and of their cost (micro-units); O(1) to
 *   check, whatever the number of vendors or of priced ones. `paid:<vendor>`: calls per vendor.
 * - `paid@<store>`: calls made by workers on that result store (`paid@unknown`: before it was kept).
 * - `currency`, `price:<vendor>`, `store`: the batch's terms, written at enqueue (./batch-terms.ts):
 *   its prices and its store are its own, never a worker's environment.
 * - `cap:calls`, `cap:spend` (micro-units), `held` (`calls` | `spend` once a cap refused a call),
 *   `state` (`paused` | `cancelled`, set by `rescreen batch pause | cancel`, or `paused` by the
 *   failure-rate guard, which leaves its reason in `pause:*` and counts in `guard:*`: ./failure-guard.ts).
 */
import type { Redis } from 'ioredis';
import type { Vendor } from '../checks/registry.js';
import { storeRoot } from '../store/keys.js';

/** Money in millionths of the currency unit: integer arithmetic, no float drift over 10^7 calls. */
export type Micros = number;

/** Why a batch's jobs may not call now. */
export type BatchHold =
  /** `by`: the batch's failure-rate guard paused it (./failure-guard.ts), not a person. */
  | { readonly kind: 'paused'; readonly by?: 'failure-rate' }
  | { readonly kind: 'cancelled' }
  /** A cap is reached: `calls` (`--max-calls`) or `spend` (`--max-spend`). */
  | { readonly kind: 'budget'; readonly cap: 'calls' | 'spend' }
  /** The batch was enqueued into another result store (`recorded`) than this worker's. */
  | { readonly kind: 'store'; readonly recorded: string };

/** The reply of a charge: the line's counts, or why the batch refused the call (nothing counted). */
export type ChargeReply = { readonly calls: number; readonly possiblyBilled: number } | { readonly refused: BatchHold };

/**
 * KEYS[1]: the batch's calls hash. ARGV (every script here): [1] the line's counter field (`''`:
 * none, the PostgreSQL ledger counts lines in its own table), [2] the call's vendor, [3] the
 * worker's store identity, then (vendor, price) pairs of every vendor with this worker's prices
 * (`''` for none): used only for a batch enqueued before batches kept their own prices.
 */
const PRELUDE = `
local h = KEYS[1]
local function priceOf(vendor)
  if redis.call('HEXISTS', h, 'currency') == 1 then
    return tonumber(redis.call('HGET', h, 'price:' .. vendor) or '')
  end
  for i = 4, #ARGV, 2 do
    if ARGV[i] == vendor then return tonumber(ARGV[i + 1]) end
  end
  return nil
end
-- The running totals; a batch counted by an older release has only its per-vendor counters: add them up once.
local function totals()
  local paid = redis.call('HGET', h, 'paid')
  if paid then return tonumber(paid), tonumber(redis.call('HGET', h, 'spend') or '0') end
  local p, s = 0, 0
  for i = 4, #ARGV, 2 do
    local n = tonumber(redis.call('HGET', h, 'paid:' .. ARGV[i]) or '0')
    p = p + n
    s = s + n * (priceOf(ARGV[i]) or 0)
  end
  redis.call('HSET', h, 'paid', p, 'spend', s, 'paid@unknown', p)
  return p, s
end
`;

/**
 * The gate: refuses (a negative reply) a worker on another store, a cancelled or paused batch, or a
 * call past a cap — a spend cap also refuses a vendor the batch has no price for — else counts the
 * call to the batch.
 */
const GATE = `${PRELUDE}
local store = redis.call('HGET', h, 'store')
if store and store ~= ARGV[3] then return {-5} end
local state = redis.call('HGET', h, 'state')
if state == 'cancelled' then return {-4} end
if state == 'paused' then return {-3} end
local paid, spend = totals()
local price = priceOf(ARGV[2])
local capCalls = tonumber(redis.call('HGET', h, 'cap:calls') or '-1')
if capCalls >= 0 and paid + 1 > capCalls then
  redis.call('HSET', h, 'held', 'calls')
  return {-1}
end
local capSpend = tonumber(redis.call('HGET', h, 'cap:spend') or '-1')
if capSpend >= 0 and (price == nil or spend + price > capSpend) then
  redis.call('HSET', h, 'held', 'spend')
  return {-2}
end
redis.call('HINCRBY', h, 'paid:' .. ARGV[2], 1)
redis.call('HINCRBY', h, 'paid', 1)
redis.call('HINCRBY', h, 'paid@' .. ARGV[3], 1)
if price then redis.call('HINCRBY', h, 'spend', price) end
`;

/** The gate, then the line's counter (when ARGV[1] names one): one round trip. Returns {calls, possiblyBilled} or {refusal}. */
const CHARGE = `${GATE}
if ARGV[1] == '' then return {1, 0} end
local calls = redis.call('HINCRBY', h, ARGV[1], 1)
local pb = 0
if calls > 1 then pb = tonumber(redis.call('HGET', h, ARGV[1] .. ':pb') or '0') end
return {calls, pb}
`;

/** Takes a counted call back: from the line (when ARGV[1] names one) and from the batch's totals. */
const REFUND = `${PRELUDE}
if ARGV[1] ~= '' then redis.call('HINCRBY', h, ARGV[1], -1) end
redis.call('HINCRBY', h, 'paid:' .. ARGV[2], -1)
if redis.call('HEXISTS', h, 'paid') == 1 then
  redis.call('HINCRBY', h, 'paid', -1)
  redis.call('HINCRBY', h, 'paid@' .. ARGV[3], -1)
  local price = priceOf(ARGV[2])
  if price then redis.call('HINCRBY', h, 'spend', -price) end
end
return 1
`;

/** The gate's refusals by reply code (-5, another store, is filled in by {@link BatchGate.charge}). */
const REFUSALS: Readonly<Record<number, BatchHold>> = {
  [-1]: { kind: 'budget', cap: 'calls' },
  [-2]: { kind: 'budget', cap: 'spend' },
  [-3]: { kind: 'paused' },
  [-4]: { kind: 'cancelled' },
};

interface GateCommands {
  rescreenBatchCharge(key: string, ...args: string[]): Promise<[number, number]>;
  rescreenBatchRefund(key: string, ...args: string[]): Promise<number>;
}

function commands(redis: Redis): GateCommands {
  const r = redis as unknown as Partial<GateCommands>;
  if (r.rescreenBatchCharge === undefined) {
    redis.defineCommand('rescreenBatchCharge', { numberOfKeys: 1, lua: CHARGE });
    redis.defineCommand('rescreenBatchRefund', { numberOfKeys: 1, lua: REFUND });
  }
  return redis as unknown as GateCommands;
}

/** The batch's calls hash: `batch:<batch>:calls` under the store's root (src/store/keys.ts), whatever the store. */
export function callsKey(prefix: string, batch: string): string {
  return `${storeRoot(prefix)}batch:${batch}:calls`;
}

export interface BatchGateOptions {
  readonly redis: Redis;
  readonly prefix: string;
  /** This worker's result store (`redis`, or `postgres://host:port/db?schema=…`): a batch of another store is refused. */
  readonly store: string;
  /** Every vendor this worker knows. */
  readonly vendors: readonly Vendor[];
  /** This worker's prices: only for a batch enqueued before batches kept their own. */
  readonly fallbackPrices: Readonly<Partial<Record<Vendor, Micros>>>;
}

/** The batches' gate as one worker process uses it (both call ledgers charge through it). */
export class BatchGate {
  readonly #o: BatchGateOptions;
  readonly #pairs: string[];

  constructor(options: BatchGateOptions) {
    this.#o = options;
    this.#pairs = options.vendors.flatMap((v) => [v, options.fallbackPrices[v] === undefined ? '' : String(options.fallbackPrices[v])]);
  }

  /** This worker's store identity. */
  get store(): string {
    return this.#o.store;
  }

  /** Counts one call of `vendor` to the batch (and to the line's `field`), unless the batch refuses it. */
  async charge(batch: string, vendor: Vendor, field = ''): Promise<ChargeReply> {
    const key = callsKey(this.#o.prefix, batch);
    const [calls, pb] = await commands(this.#o.redis).rescreenBatchCharge(key, field, vendor, this.#o.store, ...this.#pairs);
    if (calls === -5) return { refused: { kind: 'store', recorded: (await this.#o.redis.hget(key, 'store')) ?? '' } };
    const refused = REFUSALS[calls];
    return refused ? { refused } : { calls, possiblyBilled: pb };
  }

  /** Takes back a counted call that cost nothing (from the batch, and from the line's `field`). */
  async refund(batch: string, vendor: Vendor, field = ''): Promise<void> {
    await commands(this.#o.redis).rescreenBatchRefund(callsKey(this.#o.prefix, batch), field, vendor, this.#o.store, ...this.#pairs);
  }

  /**
   * Whether the batch's jobs may go on here, read before a job does any work (one HMGET; the
   * charge decides again, atomically, when the call leaves): null, or why not.
   */
  async look(batch: string): Promise<BatchHold | null> {
    const [state, store, held, capCalls, paid, by] = await this.#o.redis.hmget(callsKey(this.#o.prefix, batch), 'state', 'store', 'held', 'cap:calls', 'paid', 'pause:by');
    const hold = holdOf({ state: state ?? null, store: store ?? null, held: held ?? null, capCalls: capCalls ?? null, paid: paid ?? null }, this.#o.store);
    return hold?.kind === 'paused' && by === 'failure-rate' ? { kind: 'paused', by } : hold;
  }
}

/** Why a batch waits, from its fields as read; `store`: the reader's store identity. */
export function holdOf(
  fields: { state: string | null; store: string | null; held: string | null; capCalls: string | null; paid: string | null },
  store: string,
): BatchHold | null {
  if (fields.store !== null && fields.store !== store) return { kind: 'store', recorded: fields.store };
  if (fields.state === 'cancelled' || fields.state === 'paused') return { kind: fields.state };
  if (fields.held === 'calls' || fields.held === 'spend') return { kind: 'budget', cap: fields.held };
  if (fields.capCalls !== null && fields.paid !== null && Number(fields.paid) >= Number(fields.capCalls)) return { kind: 'budget', cap: 'calls' };
  return null;
}
