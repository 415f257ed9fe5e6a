/**
 * The per-line vendor call budget (RESCREEN_MAX_CALLS_PER_LINE): every vendor call a line makes is
 * counted in Redis — before it is made, so a worker that dies mid-call has still paid for it — over
 * all the line's BullMQ attempts and quick in-call retries. A call that provably never reached the
 * vendor, or that the vendor refused outright (429, 401/403), is taken back; one that was sent and
 * got no answer (timeout, reset) is also counted as "possibly billed", per line and per batch.
 */
import type { Redis } from 'ioredis';
import type { ProcessorDeps } from '../checks/processor.js';
import type { Vendor } from '../checks/registry.js';
import { BatchCancelledError, BatchHeldError, CallBudgetExhaustedError } from '../errors/errors.js';
import { chargeCall, refundCall, type ChargeReply, type Micros } from './batch-budget.js';
import { digestArgs } from './call-trail.js';
import { callDigest, sharedCall, type ReusedFrom, type SharedAnswers } from './dedupe.js';
import type { MediaDigest } from '../checks/types.js';
import { callCost } from '../errors/retry-policy.js';
import { batchKeys, storeRoot } from '../store/keys.js';

/** Which line's calls: the batch, the line, and the run of it (a `retry` run starts a fresh budget). */
export interface LineKey {
  readonly batch: string;
  readonly line: number;
  /** The batch was enqueued with `--dedupe`: identical calls share one answer (./dedupe.ts). */
  readonly dedupe?: boolean;
  /** `''` for the first run; for a `rescreen retry` run, the finishedAt of the failed record it replaces. */
  readonly run: string;
}

/** Counts so far for one line (this run). */
export interface LineCalls {
  /** Vendor calls counted (each may have reached the vendor). */
  readonly calls: number;
  /** Of those, calls sent that got no answer (timeout, reset). */
  readonly possiblyBilled: number;
}

/** Where the counts live (Redis in production; a Map in unit tests). */
export interface CallLedger {
  /**
   * Counts one call of `vendor` about to be made, to the line and to the batch; returns the line's
   * counts including it, or `{held}` (and counts nothing) when a cap of the batch refuses it.
   */
  charge(key: LineKey, vendor: Vendor): Promise<ChargeReply>;
  /** Takes back a call that never reached the vendor (or that the vendor refused outright). */
  refund(key: LineKey, vendor: Vendor): Promise<void>;
  /** Marks a counted call as possibly billed (sent, no answer); adds it to the batch's total too. */
  markPossiblyBilled(key: LineKey): Promise<void>;
  read(key: LineKey): Promise<LineCalls>;
}

/** What one job has seen of its line's counts (filled in by {@link meterVendorCalls}, read for the record). */
export interface Tally {
  calls: number;
  possiblyBilled: number;
  /** `--dedupe`: the answer came from this line's earlier paid call. */
  reusedFrom?: ReusedFrom;
  /** `--dedupe`: the media of the reused call (no call of its own was sent to record it). */
  reusedMedia?: MediaDigest[];
}

/** The budget as the job runner uses it. */
export interface CallBudget {
  readonly ledger: CallLedger;
  /** RESCREEN_MAX_CALLS_PER_LINE. */
  readonly maxCallsPerLine: number;
  /** `--dedupe` batches' shared answers; without it `--dedupe` pays for every line. */
  readonly shared?: SharedAnswers;
}

/** Name of the batch-meta field with the batch's possibly billed calls (read by the store's summary). */
export const POSSIBLY_BILLED_FIELD = 'possiblyBilled';

/** The key of a line's counters: `batch:<batch>:calls` HASH, fields `<line>[@run]` and `<line>[@run]:pb`. */
export function callsKey(prefix: string, batch: string): string {
  return `${storeRoot(prefix)}batch:${batch}:calls`;
}

function field(key: LineKey): string {
  return key.run === '' ? String(key.line) : `${key.line}@${key.run}`;
}

/** The ledger on Redis: one HASH per batch, next to its records (see ./batch-budget.ts). */
export class RedisCallLedger implements CallLedger {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    /** Price per call, micro-units, of the vendors with a price (for `--max-spend`). */
    private readonly prices: Readonly<Partial<Record<Vendor, Micros>>> = {},
  ) {}

  /** One round trip: the line's and the batch's counts, and every cap of the batch, in one script. */
  charge(key: LineKey, vendor: Vendor): Promise<ChargeReply> {
    return chargeCall(this.redis, callsKey(this.prefix, key.batch), { field: field(key), vendor, prices: this.prices });
  }

  async refund(key: LineKey, vendor: Vendor): Promise<void> {
    await refundCall(this.redis, callsKey(this.prefix, key.batch), field(key), vendor);
  }

  async markPossiblyBilled(key: LineKey): Promise<void> {
    await this.redis
      .multi()
      .hincrby(callsKey(this.prefix, key.batch), `${field(key)}:pb`, 1)
      .hincrby(batchKeys(this.prefix, key.batch).meta, POSSIBLY_BILLED_FIELD, 1)
      .exec();
  }

  async read(key: LineKey): Promise<LineCalls> {
    const f = field(key);
    const [calls, pb] = await this.redis.hmget(callsKey(this.prefix, key.batch), f, `${f}:pb`);
    return { calls: Number(calls ?? 0), possiblyBilled: Number(pb ?? 0) };
  }
}

/** The ledger in memory, for unit tests. */
export class MemoryCallLedger implements CallLedger {
  readonly counts = new Map<string, { calls: number; possiblyBilled: number }>();
  private entry(key: LineKey) {
    const k = `${key.batch}\n${field(key)}`;
    let e = this.counts.get(k);
    if (!e) this.counts.set(k, (e = { calls: 0, possiblyBilled: 0 }));
    return e;
  }
  charge(key: LineKey): Promise<ChargeReply> {
    const e = this.entry(key);
    e.calls += 1;
    return Promise.resolve({ ...e });
  }
  refund(key: LineKey): Promise<void> {
    this.entry(key).calls -= 1;
    return Promise.resolve();
  }
  markPossiblyBilled(key: LineKey): Promise<void> {
    this.entry(key).possiblyBilled += 1;
    return Promise.resolve();
  }
  read(key: LineKey): Promise<LineCalls> {
    return Promise.resolve({ ...this.entry(key) });
  }
}

/**
 * The processor dependencies with every vendor call metered: charged before it is made (refused with
 * CallBudgetExhaustedError, and no call, once the line has used its budget), taken back when it
 * cost nothing, marked when it was possibly billed. One client call is one vendor call that may have
 * been billed: its quick in-call retries only follow requests that never reached the vendor.
 */
export function meterVendorCalls(deps: ProcessorDeps, budget: CallBudget, key: LineKey, tally: Tally, vendor: Vendor): ProcessorDeps {
  const metered = async <T>(vendor: Vendor, call: () => Promise<T>): Promise<T> => {
    const charged = await budget.ledger.charge(key, vendor);
    if ('cancelled' in charged) throw new BatchCancelledError(`batch ${key.batch} was cancelled before this line was sent (rescreen retry sends it)`);
    if ('held' in charged) {
      if (charged.held === 'paused') throw new BatchHeldError('paused', `batch ${key.batch} is paused (rescreen batch resume)`);
      const cap = charged.held === 'calls' ? '--max-calls' : '--max-spend';
      throw new BatchHeldError('budget', `batch ${key.batch}: budget reached (${cap}); raise it with rescreen batch raise`);
    }
    const { calls, possiblyBilled } = charged;
    tally.possiblyBilled = possiblyBilled;
    if (calls > budget.maxCallsPerLine) {
      await budget.ledger.refund(key, vendor);
      tally.calls = calls - 1;
      throw new CallBudgetExhaustedError(budgetMessage(calls - 1, possiblyBilled, budget.maxCallsPerLine));
    }
    tally.calls = calls;
    try {
      return await call();
    } catch (error) {
      const cost = callCost(error);
      if (cost === 'free') {
        await budget.ledger.refund(key, vendor);
        tally.calls -= 1;
      } else if (cost === 'possibly-billed') {
        await budget.ledger.markPossiblyBilled(key);
        tally.possiblyBilled += 1;
      }
      throw error;
    }
  };
  // Every method of the client but `close` is one vendor call (the VendorClient contract).
  const client: unknown = new Proxy(deps.client as object, {
    get: (target, name) => {
      const value: unknown = Reflect.get(target, name, target);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      if (name === 'close') return method.bind(target);
      const paid = (args: unknown[]) => metered(vendor, () => Promise.resolve(method.apply(target, args)));
      if (key.dedupe !== true || budget.shared === undefined) return (...args: unknown[]) => paid(args);
      const shared = budget.shared;
      // Reuse before charging: a reused answer costs no call.
      return (...args: unknown[]) =>
        sharedCall(shared, key, vendor, callDigest(vendor, String(name), args), () => paid(args), (from) => {
          tally.reusedFrom = from;
          tally.reusedMedia = digestArgs(args);
        });
    },
  });
  return { ...deps, client };
}

/** `4 vendor calls made for this line without an answer (2 possibly billed); the limit is RESCREEN_MAX_CALLS_PER_LINE=4`. */
export function budgetMessage(calls: number, possiblyBilled: number, max: number): string {
  const billed = possiblyBilled > 0 ? ` (${possiblyBilled} possibly billed: sent, no answer)` : '';
  return `${calls} vendor ${calls === 1 ? 'call' : 'calls'} made for this line without a usable answer${billed}; the limit is RESCREEN_MAX_CALLS_PER_LINE=${max}`;
}
