/**
 * `--dedupe`: pay once per media. Lines of a batch whose vendor call is identical — same vendor
 * method, same media bytes (sha256), same options — share one vendor answer: the first line to get
 * there claims the call, the others wait for its answer and reuse it (no paid call), each still
 * getting its own record, marked `reusedFrom`.
 *
 * All of it is one hash per batch (src/redis/keys.ts dedupeKey): field = call digest, value = the
 * claim (`pending …`) or the answer (JSON). A claim older than the job lock is taken over (its
 * worker died); a call that ended without an answer releases its claim for the next line
 * (src/redis/lua/dedupe-claim-1.lua, dedupe-release-1.lua).
 */
import { createHash } from 'node:crypto';
import type { Redis } from '../redis/client.js';
import type { Vendor } from '../vendors/types.js';
import { BatchHeldError, VendorRejectedError } from '../errors/errors.js';
import { dedupeKey } from '../redis/keys.js';
import { scripts } from '../redis/scripts.js';

/** Where an answer was first paid for. */
export interface ReusedFrom {
  readonly batch: string;
  readonly line: number;
  readonly transactionId: string | null;
}

/** What a shared call left: the vendor's answer, or its final refusal (a `rejected` answer). */
export type SharedOutcome =
  | { readonly kind: 'answer'; readonly answer: unknown; readonly from: ReusedFrom }
  | { readonly kind: 'rejected'; readonly error: SharedRejection; readonly from: ReusedFrom };

/** A VendorRejectedError as kept for the lines that reuse it. */
export interface SharedRejection {
  readonly vendor: Vendor;
  readonly status: number;
  readonly code: string | number;
  readonly message: string;
  readonly body: unknown;
  readonly transactionId: string | null;
}

/** The claim's reply: this line pays (`claimed`), another line is paying (`wait`), or the outcome is there. */
export type ClaimReply = { readonly kind: 'claimed' } | { readonly kind: 'wait' } | SharedOutcome;

/** The batch's shared answers on Redis. */
export class SharedAnswers {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    /** A claim older than this is taken over (the job lock: its worker is gone by then). */
    private readonly staleMs: number,
  ) {}

  async claim(batch: string, line: number, digest: string): Promise<ClaimReply> {
    const reply = await scripts.dedupeClaim(this.redis, { dedupeKey: this.key(batch), digest, line: String(line), staleMs: String(this.staleMs) });
    if (reply === 'claimed') return { kind: 'claimed' };
    if (reply === 'wait') return { kind: 'wait' };
    return JSON.parse(reply) as SharedOutcome;
  }

  async settle(batch: string, digest: string, outcome: SharedOutcome): Promise<void> {
    await this.redis.hset(this.key(batch), digest, JSON.stringify(outcome));
  }

  async release(batch: string, line: number, digest: string): Promise<void> {
    await scripts.dedupeRelease(this.redis, { dedupeKey: this.key(batch), digest, line: String(line) });
  }

  private key(batch: string): string {
    return dedupeKey(this.prefix, batch);
  }
}

/**
 * The digest of one vendor call: the method, each media's sha256, and every other argument (the
 * call options such as the abort signal excepted). Two calls with the same digest get the same answer.
 */
export function callDigest(vendor: Vendor, method: string, args: readonly unknown[]): string {
  const hash = createHash('sha256').update(`${vendor}\u0000${method}`);
  const visit = (value: unknown): void => {
    if (Buffer.isBuffer(value)) {
      hash.update(`\u0000bytes:${createHash('sha256').update(value).digest('hex')}`);
    } else if (Array.isArray(value)) {
      hash.update('\u0000[');
      value.forEach(visit);
      hash.update(']');
    } else if (value !== null && typeof value === 'object') {
      if (value instanceof AbortSignal) return;
      const entries = Object.entries(value as Record<string, unknown>)
        // The file name goes in the multipart body but does not change the vendor's reading of the bytes.
        .filter(([k, v]) => k !== 'signal' && k !== 'filename' && v !== undefined)
        .sort(([a], [b]) => a.localeCompare(b));
      hash.update('\u0000{');
      for (const [k, v] of entries) {
        hash.update(`${k}:`);
        visit(v);
      }
      hash.update('}');
    } else {
      hash.update(`\u0000${JSON.stringify(value) ?? 'undefined'}`);
    }
  };
  args.forEach(visit);
  return hash.digest('hex');
}

/**
 * Makes one vendor call of a `--dedupe` line through the batch's shared answers: reuses an answer
 * (or a final refusal) another line paid for, waits (BatchHeldError) while another line is paying,
 * or pays (`call`) and shares what it got. `onReuse` hears where a reused answer came from.
 */
export async function sharedCall<T>(
  shared: SharedAnswers,
  at: { readonly batch: string; readonly line: number },
  vendor: Vendor,
  digest: string,
  call: () => Promise<T>,
  onReuse: (from: ReusedFrom) => void,
): Promise<T> {
  const claim = await shared.claim(at.batch, at.line, digest);
  switch (claim.kind) {
    case 'answer':
      onReuse(claim.from);
      return claim.answer as T;
    case 'rejected': {
      onReuse(claim.from);
      const e = claim.error;
      throw new VendorRejectedError({ vendor: e.vendor, status: e.status, headers: {}, body: e.body, transactionId: e.transactionId, message: e.message, code: e.code });
    }
    case 'wait':
      throw new BatchHeldError('dedupe', `batch ${at.batch}: the same media is being screened for another line; this line reuses its answer`);
    case 'claimed':
      break;
  }
  let answer: T;
  try {
    answer = await call();
  } catch (error) {
    if (error instanceof VendorRejectedError) {
      const from = { batch: at.batch, line: at.line, transactionId: error.transactionId };
      const rejection: SharedRejection = { vendor, status: error.status, code: error.code, message: error.message, body: error.body, transactionId: error.transactionId };
      await shared.settle(at.batch, digest, { kind: 'rejected', error: rejection, from });
    } else {
      // No final answer: the next line with this media makes the call.
      await shared.release(at.batch, at.line, digest);
    }
    throw error;
  }
  const transactionId = (answer as { transactionId?: string | null } | null)?.transactionId ?? null;
  await shared.settle(at.batch, digest, { kind: 'answer', answer, from: { batch: at.batch, line: at.line, transactionId } });
  return answer;
}
