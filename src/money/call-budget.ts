/**
 * The per-line vendor call budget (RESCREEN_MAX_CALLS_PER_LINE): every vendor call a line makes is
 * counted in Redis — at the moment it leaves, after the quota permit, so a worker that dies mid-call
 * has still paid for it — over all the line's BullMQ attempts and quick in-call retries. A call that
 * provably never reached the vendor, or that the vendor refused outright (429, 401/403), is taken
 * back; one that was sent and got no answer (timeout, reset) is also counted as "possibly billed",
 * per line and per batch. The same charge passes the batch's gate (./batch-budget.ts).
 */
import type { ProcessorDeps } from '../checks/processor.js';
import type { Vendor } from '../vendors/types.js';
import { BatchCancelledError, BatchHeldError, CallBudgetExhaustedError } from '../errors/errors.js';
import type { CallHooks } from '../vendors/observer.js';
import type { BatchHold, ChargeReply } from './batch-budget.js';
import { digestArgs } from '../records/call-trail.js';
import { callDigest, sharedCall, type ReusedFrom, type SharedAnswers } from './dedupe.js';
import type { MediaDigest } from '../checks/types.js';
import { callCost } from '../errors/retry-policy.js';

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

/**
 * Where the counts live: beside the result store (src/store/redis-call-ledger.ts,
 * src/store/postgres/pg-call-ledger.ts); a Map in unit tests.
 */
export interface CallLedger {
  /**
   * Counts one call of `vendor` about to leave, to the line and to the batch; returns the line's
   * counts including it, or `{refused}` (and counts nothing) when the batch refuses it.
   */
  charge(key: LineKey, vendor: Vendor): Promise<ChargeReply>;
  /** Takes back a call that never reached the vendor (or that the vendor refused outright). */
  refund(key: LineKey, vendor: Vendor): Promise<void>;
  /** Marks a counted call as possibly billed (sent, no answer); adds it to the batch's total too. */
  markPossiblyBilled(key: LineKey): Promise<void>;
  read(key: LineKey): Promise<LineCalls>;
  /** Whether the batch's jobs may go on in this worker (its state, caps, store): null, or why not. */
  look(batch: string): Promise<BatchHold | null>;
}

/** What one job has seen of its line's counts (filled in by {@link budgetHooks}, read for the record). */
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

/** How a ledger names one line's run: `<line>` for the first run, `<line>@<run>` for a `retry` run. */
export function lineField(key: LineKey): string {
  return key.run === '' ? String(key.line) : `${key.line}@${key.run}`;
}

/** The ledger in memory, for unit tests. */
export class MemoryCallLedger implements CallLedger {
  readonly counts = new Map<string, { calls: number; possiblyBilled: number }>();
  private entry(key: LineKey) {
    const k = `${key.batch}\n${lineField(key)}`;
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
  look(): Promise<BatchHold | null> {
    return Promise.resolve(null);
  }
}

/** The taxonomy error of a batch's refusal (the job waits, or a cancelled line ends CANCELLED). */
export function holdError(batch: string, hold: BatchHold): BatchHeldError | BatchCancelledError {
  switch (hold.kind) {
    case 'cancelled':
      return new BatchCancelledError(`batch ${batch} was cancelled before this line was sent (rescreen retry sends it)`);
    case 'paused':
      return new BatchHeldError('paused', `batch ${batch} is paused (rescreen batch resume ${batch})`);
    case 'budget':
      return new BatchHeldError('budget', `batch ${batch}: budget reached (--max-${hold.cap}); raise it with rescreen batch raise ${batch}`);
    case 'store':
      return new BatchHeldError('store', `batch ${batch} was enqueued into the result store ${hold.recorded}: its jobs wait for a worker on that store`);
  }
}

/**
 * The call budget and the batch's gate as hooks around each vendor call of one job (the transport
 * calls them; see src/vendors/observer.ts): charged when the call leaves — after its quota permit —
 * refused with CallBudgetExhaustedError once the line has used its budget, or with the batch's hold;
 * taken back when it cost nothing, marked when it was possibly billed. One client call is one vendor
 * call that may have been billed: its quick in-call retries only follow requests that never reached
 * the vendor, and are charged no more (but still wait for a pause or a cancel made meanwhile).
 */
export function budgetHooks(budget: CallBudget, key: LineKey, tally: Tally): CallHooks {
  return {
    open: (vendor) => {
      let charged = false;
      return {
        beforeSend: async () => {
          if (charged) {
            const hold = await budget.ledger.look(key.batch);
            if (hold?.kind === 'paused' || hold?.kind === 'cancelled') throw holdError(key.batch, hold);
            return;
          }
          const charge = await budget.ledger.charge(key, vendor);
          if ('refused' in charge) throw holdError(key.batch, charge.refused);
          const { calls, possiblyBilled } = charge;
          tally.possiblyBilled = possiblyBilled;
          if (calls > budget.maxCallsPerLine) {
            await budget.ledger.refund(key, vendor);
            tally.calls = calls - 1;
            throw new CallBudgetExhaustedError(budgetMessage(calls - 1, possiblyBilled, budget.maxCallsPerLine));
          }
          tally.calls = calls;
          charged = true;
        },
        failed: async (error) => {
          if (!charged) return;
          const cost = callCost(error);
          if (cost === 'free') {
            await budget.ledger.refund(key, vendor);
            tally.calls -= 1;
          } else if (cost === 'possibly-billed') {
            await budget.ledger.markPossiblyBilled(key);
            tally.possiblyBilled += 1;
          }
        },
      };
    },
  };
}

/**
 * `--dedupe`: the processor dependencies with every vendor call going through the batch's shared
 * answers (./dedupe.ts): an answer another line paid for is reused before anything is charged.
 */
export function shareVendorCalls(deps: ProcessorDeps, shared: SharedAnswers, key: LineKey, tally: Tally, vendor: Vendor): ProcessorDeps {
  // Every method of the client but `close` is one vendor call (the VendorClient contract).
  const client: unknown = new Proxy(deps.client as object, {
    get: (target, name) => {
      const value: unknown = Reflect.get(target, name, target);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      if (name === 'close') return method.bind(target);
      return (...args: unknown[]) =>
        sharedCall(shared, key, vendor, callDigest(vendor, String(name), args), () => Promise.resolve(method.apply(target, args)), (from) => {
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
