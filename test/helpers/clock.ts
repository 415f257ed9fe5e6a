/**
 * Clocks for tests that are not bound to a date: "today" is the fleet's today (Redis TIME, the
 * clock the admission scripts and `status` read), never a fixed day.
 */
import { redisTime } from '../../src/redis/time.js';
import { redisClient } from './redis.js';

export const DAY_MS = 24 * 3600_000;

/** Redis TIME, ms. */
export async function fleetNow(): Promise<number> {
  const client = redisClient();
  try {
    return await redisTime(client);
  } finally {
    await client.quit();
  }
}

/**
 * When the fleet's clock is less than `marginMs` before a UTC midnight, sleeps until just after it:
 * a test that spends a daily window and then reads it back must not see the day turn in between.
 * Returns how long it slept (0 on all but a few runs a day).
 */
export async function awayFromMidnight(marginMs: number): Promise<number> {
  const now = await fleetNow();
  const left = DAY_MS - (now % DAY_MS);
  if (left >= marginMs) return 0;
  await new Promise((r) => setTimeout(r, left + 1_000));
  return left + 1_000;
}
