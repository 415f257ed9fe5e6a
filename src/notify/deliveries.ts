/**
 * The outcome of every completion-webhook delivery, kept in Redis under the prefix so `rescreen
 * webhooks`, the API and the dashboard can show what an unreachable receiver used to leave only in a
 * log line. One hash field per batch (its latest state) and a sorted set ordering them by last change.
 */
import type { Redis } from '../redis/client.js';
import { webhookDeliveriesKey, webhookDeliveryOrderKey } from '../redis/keys.js';

export const DELIVERY_STATES = ['pending', 'delivered', 'failed'] as const;
/** `pending`: queued or waiting out a backoff; `delivered`: a 2xx came back; `failed`: every attempt spent. */
export type DeliveryState = (typeof DELIVERY_STATES)[number];

export interface DeliveryRecord {
  readonly batch: string;
  /** The event (`case.opened`, `case.decided`); absent for `batch.finished`. */
  readonly event?: string;
  /** The case of a `case.*` event. */
  readonly caseId?: string;
  readonly deliveryId: string;
  readonly state: DeliveryState;
  /** Attempts made so far. */
  readonly attempts: number;
  /** The last failed attempt's code (`WEBHOOK_UNREACHABLE`, `HTTP_<status>`) and message (no query string). */
  readonly lastError: { readonly code: string; readonly message: string } | null;
  /** ISO 8601 of the last change. */
  readonly updatedAt: string;
}

/** Deliveries remembered; older ones are dropped from the log (their batches are long announced). */
export const MAX_DELIVERIES_KEPT = 10_000;

const hashKey = webhookDeliveriesKey;
const orderKey = webhookDeliveryOrderKey;

export class DeliveryLog {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  /** Keeps the delivery's latest state: a batch's `batch.finished` under the batch, a case event under its delivery id. */
  async write(record: DeliveryRecord): Promise<void> {
    const field = record.event === undefined ? record.batch : record.deliveryId;
    await this.redis
      .multi()
      .hset(hashKey(this.prefix), field, JSON.stringify(record))
      .zadd(orderKey(this.prefix), Date.parse(record.updatedAt), field)
      .exec();
    const extra = (await this.redis.zcard(orderKey(this.prefix))) - MAX_DELIVERIES_KEPT;
    if (extra > 0) {
      const old = await this.redis.zrange(orderKey(this.prefix), 0, extra - 1);
      if (old.length > 0) await this.redis.multi().zrem(orderKey(this.prefix), ...old).hdel(hashKey(this.prefix), ...old).exec();
    }
  }

  async get(batch: string): Promise<DeliveryRecord | null> {
    const raw = await this.redis.hget(hashKey(this.prefix), batch);
    return raw === null ? null : (JSON.parse(raw) as DeliveryRecord);
  }

  /** Newest change first, at most `limit`, optionally of one batch. */
  async list(limit = 100): Promise<DeliveryRecord[]> {
    const batches = await this.redis.zrevrange(orderKey(this.prefix), 0, Math.max(0, limit - 1));
    if (batches.length === 0) return [];
    const raws = await this.redis.hmget(hashKey(this.prefix), ...batches);
    return raws.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as DeliveryRecord);
  }

  /** Deliveries per state over every one kept (for metrics and the dashboard's header). */
  async counts(): Promise<Record<DeliveryState, number>> {
    const out: Record<DeliveryState, number> = { pending: 0, delivered: 0, failed: 0 };
    for (const raw of await this.redis.hvals(hashKey(this.prefix))) {
      const state = (JSON.parse(raw) as DeliveryRecord).state;
      if (state in out) out[state] += 1;
    }
    return out;
  }
}
