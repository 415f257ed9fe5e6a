/** The settings of the vendors' circuit breaker (src/quota/breaker.ts), from RESCREEN_BREAKER_*. */
import type { z } from 'zod';
import type { EnvSchema } from './env-schema.js';

type Env = z.infer<typeof EnvSchema>;

export interface BreakerSettings {
  /** Gateway failures in a row that open a vendor's breaker. Env `RESCREEN_BREAKER_FAILURES`, default 5. */
  readonly failures: number;
  /** Wait of a breaker that just opened before one call tests the vendor, ms; doubles per failed test. Env `RESCREEN_BREAKER_BASE_MS`, default 1000. */
  readonly baseMs: number;
  /** Longest wait between two tests, ms. Env `RESCREEN_BREAKER_MAX_MS`, default 60000. */
  readonly maxMs: number;
  /**
   * A breaker open this long is reported — once in the log, in `status`, `/readyz` (not ready) and
   * the metrics — and `work --until-idle` stops waiting for that vendor, ms. Env `RESCREEN_BREAKER_ALERT_MS`, default 900000 (15 min).
   */
  readonly alertMs: number;
}

export function breakerSettings(e: Pick<Env, 'RESCREEN_BREAKER_FAILURES' | 'RESCREEN_BREAKER_BASE_MS' | 'RESCREEN_BREAKER_MAX_MS' | 'RESCREEN_BREAKER_ALERT_MS'>): BreakerSettings {
  return { failures: e.RESCREEN_BREAKER_FAILURES, baseMs: e.RESCREEN_BREAKER_BASE_MS, maxMs: e.RESCREEN_BREAKER_MAX_MS, alertMs: e.RESCREEN_BREAKER_ALERT_MS };
}
