/**
 * What each schedule last did, kept in Redis under the prefix so `schedule list` on any machine can
 * show it: one HASH per schedule (src/redis/keys.ts scheduleStateKey, outside the `schedules`
 * queue's own keys) with the fields below.
 *
 * | field | content |
 * |---|---|
 * | `lastBatch` | batch id of the newest firing that enqueued (or began to) |
 * | `lastScheduledAt` | its scheduled time, ms since the epoch |
 * | `lastFiredAt` | when it actually ran, ISO 8601 |
 * | `lastSkip` | JSON {@link ScheduleSkip} of the newest skipped firing |
 * | `lastError` | JSON {@link ScheduleFailure} of a firing whose enqueue failed; cleared by the next success |
 */
import type { Redis } from '../redis/client.js';
import { scheduleStateKey } from '../redis/keys.js';
import { scripts } from '../redis/scripts.js';

/** A firing that was skipped because the previous batch was still running. */
export interface ScheduleSkip {
  /** When it was skipped, ISO 8601. */
  readonly at: string;
  /** The scheduled time of the skipped firing, ISO 8601. */
  readonly scheduledAt: string;
  /** The batch it would have made. */
  readonly batch: string;
  /** The batch that was still running. */
  readonly previous: string;
  /** Records of `previous` at the time, and its line count (`null` while still enqueueing). */
  readonly recorded: number;
  readonly total: number | null;
}

/** A firing whose enqueue failed (unreadable manifest, Redis error). */
export interface ScheduleFailure {
  readonly at: string;
  readonly batch: string;
  readonly message: string;
}

export interface ScheduleState {
  readonly lastBatch: string | null;
  /** Scheduled time of `lastBatch`, ms since the epoch. */
  readonly lastScheduledAt: number | null;
  readonly lastFiredAt: string | null;
  readonly lastSkip: ScheduleSkip | null;
  readonly lastError: ScheduleFailure | null;
}

/** Reads and writes {@link ScheduleState}. Never closes the client it is given. */
export class ScheduleStateStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async get(name: string): Promise<ScheduleState> {
    const h = await this.redis.hgetall(scheduleStateKey(this.prefix, name));
    return {
      lastBatch: h.lastBatch ?? null,
      lastScheduledAt: h.lastScheduledAt !== undefined ? Number(h.lastScheduledAt) : null,
      lastFiredAt: h.lastFiredAt ?? null,
      lastSkip: parseJson<ScheduleSkip>(h.lastSkip),
      lastError: parseJson<ScheduleFailure>(h.lastError),
    };
  }

  /**
   * Marks `batch` as the schedule's newest firing unless a newer one is recorded (moving only
   * forward in scheduled time: src/redis/lua/schedule-record-firing-1.lua). Returns whether it moved.
   */
  async recordFiring(name: string, batch: string, scheduledAt: Date, firedAt: Date): Promise<boolean> {
    const moved = await scripts.scheduleRecordFiring(this.redis, {
      stateKey: scheduleStateKey(this.prefix, name),
      batch,
      scheduledMs: scheduledAt.getTime(),
      firedAt: firedAt.toISOString(),
    });
    return Number(moved) === 1;
  }

  async recordSkip(name: string, skip: ScheduleSkip): Promise<void> {
    await this.redis.hset(scheduleStateKey(this.prefix, name), 'lastSkip', JSON.stringify(skip));
  }

  async recordFailure(name: string, failure: ScheduleFailure): Promise<void> {
    await this.redis.hset(scheduleStateKey(this.prefix, name), 'lastError', JSON.stringify(failure));
  }

  /** Clears `lastError` (a later firing enqueued fully). */
  async clearFailure(name: string): Promise<void> {
    await this.redis.hdel(scheduleStateKey(this.prefix, name), 'lastError');
  }

  /** Forgets the schedule's state (`schedule remove`). Its batches stay in the store. */
  async delete(name: string): Promise<void> {
    await this.redis.del(scheduleStateKey(this.prefix, name));
  }
}

function parseJson<T>(text: string | undefined): T | null {
  if (text === undefined) return null;
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}
