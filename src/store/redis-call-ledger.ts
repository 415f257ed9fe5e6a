/**
 * The per-line vendor call ledger (src/money/call-budget.ts) on Redis, for the Redis result store:
 * the line counters in the batch's calls HASH (src/redis/keys.ts callsKey), next to its records and
 * its gate (src/money/batch-budget.ts); the batch's possibly-billed total in its meta hash.
 */
import type { Redis } from 'ioredis';
import type { Vendor } from '../vendors/types.js';
import type { BatchGate, BatchHold, ChargeReply } from '../money/batch-budget.js';
import { lineField, POSSIBLY_BILLED_FIELD, type CallLedger, type LineCalls, type LineKey } from '../money/call-budget.js';
import { batchKeys, callsKey } from '../redis/keys.js';

export class RedisCallLedger implements CallLedger {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly gate: BatchGate,
  ) {}

  /** One round trip: the line's and the batch's counts, and the batch's gate, in one script. */
  charge(key: LineKey, vendor: Vendor): Promise<ChargeReply> {
    return this.gate.charge(key.batch, vendor, lineField(key));
  }

  refund(key: LineKey, vendor: Vendor): Promise<void> {
    return this.gate.refund(key.batch, vendor, lineField(key));
  }

  look(batch: string): Promise<BatchHold | null> {
    return this.gate.look(batch);
  }

  async markPossiblyBilled(key: LineKey): Promise<void> {
    await this.redis
      .multi()
      .hincrby(callsKey(this.prefix, key.batch), `${lineField(key)}:pb`, 1)
      .hincrby(batchKeys(this.prefix, key.batch).meta, POSSIBLY_BILLED_FIELD, 1)
      .exec();
  }

  async read(key: LineKey): Promise<LineCalls> {
    const f = lineField(key);
    const [calls, pb] = await this.redis.hmget(callsKey(this.prefix, key.batch), f, `${f}:pb`);
    return { calls: Number(calls ?? 0), possiblyBilled: Number(pb ?? 0) };
  }
}
