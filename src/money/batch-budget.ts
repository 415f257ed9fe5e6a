/**
 * A batch's gate: its state (paused, cancelled), its caps (`--max-calls`, `--max-spend`) and its
 * store, checked — and the call charged — by one Lua script (src/redis/lua/batch-charge-1.lua) at
 * the moment a call leaves (after the quota permit), atomically for the whole fleet: a cap is never
 * passed by even one call, and no call leaves once `batch pause | cancel` has returned.
 *
 * Fields of the batch's calls hash (src/redis/keys.ts callsKey), besides the per-line counters of
 * ./call-budget.ts (up to one per line: never read the hash whole):
 * - `paid`, `spend`: running totals of the batch's calls and of their cost (micro-units); O(1) to
 *   check, whatever the number of vendors or of priced ones. `paid:<vendor>`: calls per vendor.
 * - `paid@<store>`: calls made by workers on that result store (`paid@unknown`: before it was kept).
 * - `currency`, `price:<vendor>`, `store`: the batch's terms, written at enqueue (./batch-terms.ts):
 *   its prices and its store are its own, never a worker's environment.
 * - `cap:calls`, `cap:spend` (micro-units), `held` (`calls` | `spend` once a cap refused a call),
 *   `state` (`paused` | `cancelled`, set by `rescreen batch pause | cancel`, or `paused` by the
 *   failure-rate guard, which leaves its reason in `pause:*` and counts in `guard:*`: ./failure-guard.ts).
 */
import type { Redis } from '../redis/client.js';
import { callsKey } from '../redis/keys.js';
import { scripts } from '../redis/scripts.js';
import type { Vendor } from '../vendors/types.js';

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

/** The gate's refusals by reply code (-5, another store, is filled in by {@link BatchGate.charge}). */
const REFUSALS: Readonly<Record<number, BatchHold>> = {
  [-1]: { kind: 'budget', cap: 'calls' },
  [-2]: { kind: 'budget', cap: 'spend' },
  [-3]: { kind: 'paused' },
  [-4]: { kind: 'cancelled' },
};

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
  /** (vendor, price) pairs of every vendor this worker knows, `''` for no price: the scripts' fallback prices. */
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
    const [calls, pb = 0] = await scripts.batchCharge(this.#o.redis, this.#call(key, vendor, field));
    if (calls === -5) return { refused: { kind: 'store', recorded: (await this.#o.redis.hget(key, 'store')) ?? '' } };
    const refused = REFUSALS[calls];
    return refused ? { refused } : { calls, possiblyBilled: pb };
  }

  /** Takes back a counted call that cost nothing (from the batch, and from the line's `field`). */
  async refund(batch: string, vendor: Vendor, field = ''): Promise<void> {
    await scripts.batchRefund(this.#o.redis, this.#call(callsKey(this.#o.prefix, batch), vendor, field));
  }

  #call(key: string, vendor: Vendor, field: string) {
    return { callsKey: key, lineField: field, vendor, store: this.#o.store, fallbackPrices: this.#pairs };
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
