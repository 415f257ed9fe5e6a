/**
 * The simulator's knobs: everything a test, the demo or the benchmark can set at start
 * (`startSimulator(options)`) or later (`simulator.configure(partial)`).
 */
import type { RateLimit } from '../config/rate-limit.js';
import { GLAIR_SIMULATOR_CREDENTIALS } from '../vendors/glair/vendor.js';
import { OOTO_SIMULATOR_CREDENTIALS } from '../vendors/ooto/vendor.js';
import type { MediaScript } from './script.js';

/** The vendors the simulator plays: OOTO and GLAIR, contract-true to /work/shared/seeds (a test vendor brings its own endpoint). */
export type SimVendor = 'ooto' | 'glair';

/** OOTO credentials: the `APP-ID` and `APP-KEY` request headers. */
export interface OotoCredentials {
  readonly appId: string;
  readonly appKey: string;
}

/** GLAIR credentials: `Authorization: Basic base64(username:password)` and the `x-api-key` header. */
export interface GlairCredentials {
  readonly username: string;
  readonly password: string;
  readonly apiKey: string;
}

/** Credentials the simulator accepts, per vendor. */
export interface SimCredentials {
  readonly ooto: OotoCredentials;
  readonly glair: GlairCredentials;
}

/** The credentials a simulator accepts unless told otherwise: the test credentials each vendor's definition names. */
export const SIM_CREDENTIALS: SimCredentials = Object.freeze({ ooto: OOTO_SIMULATOR_CREDENTIALS, glair: GLAIR_SIMULATOR_CREDENTIALS });

/**
 * How an injected failure looks to the client:
 * - `'500'` / `'503'` — that HTTP status with a small JSON body in the vendor's style;
 * - `'reset'` — the socket is destroyed without an answer (the client sees a connection reset);
 * - `'timeout'` — no answer at all, ever, until the client gives up (or the simulator closes).
 */
export type FailureKind = '500' | '503' | 'reset' | 'timeout';
export const FAILURE_KINDS: readonly FailureKind[] = ['500', '503', 'reset', 'timeout'];

/**
 * A vendor quota the simulator enforces with HTTP 429: at most `max` calls per `durationMs`.
 * OOTO's 429 carries `Retry-After` (whole seconds, the ceiling of what is left of the window);
 * GLAIR's does not (its docs say: use exponential backoff).
 */
export interface SimRateLimit extends RateLimit {
  /**
   * How the gateway counts, as real API gateways do:
   * - `fixed` (default; alias `first-call`): a window of `durationMs` opens with the first call after
   *   the previous one ended (the way BullMQ's limiter counts);
   * - `wall-clock`: windows aligned on the clock, `floor(now / durationMs)` (nginx, many CDNs);
   * - `sliding`: at most `max` calls in any `durationMs` span;
   * - `token-bucket`: a bucket of `burst` tokens refilled at `max` per `durationMs` (AWS API Gateway,
   *   Envoy): small bursts only.
   */
  readonly window?: SimWindowKind;
  /** `token-bucket` only: the bucket's size. Default `max` (a whole window's worth). */
  readonly burst?: number;
}

export type SimWindowKind = 'fixed' | 'first-call' | 'wall-clock' | 'sliding' | 'token-bucket';
export const SIM_WINDOW_KINDS: readonly SimWindowKind[] = ['first-call', 'wall-clock', 'sliding', 'token-bucket', 'fixed'];

/** A template to enrol at start: from sample bytes (identity from their `face=` directive or hash) or an identity key. */
export type SeedTemplate =
  | { readonly bytes: Uint8Array; readonly templateId?: string }
  | { readonly face: string; readonly templateId?: string };

/** Knobs that can change at run time (`simulator.configure`). Each given key replaces the current value. */
export interface SimulatorSettings {
  /** Fixed delay before every vendor answer, milliseconds. Default 0. */
  readonly latencyMs?: number;
  /** Extra random delay, uniformly 0–`latencyJitterMs` milliseconds, added to `latencyMs`. Default 0. */
  readonly latencyJitterMs?: number;
  /**
   * Share of vendor calls (0–1) that fail with one of `failureKinds`, chosen at random; applied after
   * authentication and rate limiting. Default 0.
   */
  readonly failureRate?: number;
  /** The failures to choose from, uniformly. Default `['500', '503', 'reset']`. */
  readonly failureKinds?: readonly FailureKind[];
  /**
   * Per-vendor quota answered with 429; a vendor left out (or `null`) is unlimited. Given to
   * `configure`, it replaces both vendors' limits and restarts their windows. Default: none.
   */
  readonly rateLimit?: { readonly ooto?: SimRateLimit | null; readonly glair?: SimRateLimit | null };
  /** Accepted credentials; a vendor left out keeps its current ones. Default {@link SIM_CREDENTIALS}. */
  readonly credentials?: { readonly ooto?: OotoCredentials; readonly glair?: GlairCredentials };
  /**
   * GLAIR answers its older success shape
   * `{"status":"SUCCESS","result":{"deepfake_status":"fake"|"real","confidence_score":n}}`. Default false.
   */
  readonly glairLegacyShape?: boolean;
  /** Templates enrolled in the OOTO 1:N database (at start, or added by `configure`). Default none. */
  readonly seedTemplates?: readonly SeedTemplate[];
  /** Seed for the failure and jitter draws, for reproducible runs. Default: unseeded (Math.random). */
  readonly randomSeed?: number;
  /**
   * A scripted vendor model change: added to every deepfake score the vendor's engine answers (on
   * rescreen's scale, higher = more genuine; GLAIR's confidence moves the other way), clamped to
   * [0, 1]; −1 to 1, default 0. `--ooto-score-shift -0.1` rehearses a vendor update (README: Score drift).
   */
  readonly scoreShift?: { readonly ooto?: number; readonly glair?: number };
  /**
   * Night-to-night noise: every deepfake score moves by a uniform draw in [−noise, +noise] (a fresh
   * draw per call, from `randomSeed` when given), clamped to [0, 1]. 0–0.5, default 0.
   */
  readonly scoreNoise?: number;
}

/** Options of `startSimulator`. */
export interface SimulatorOptions extends SimulatorSettings {
  /** Per-media outcomes and failures, and a hook told of every call (the testing kit's `startSimulator`). */
  readonly script?: MediaScript;
  /** Interface to listen on. Default `127.0.0.1`. */
  readonly host?: string;
  /** TCP port; 0 (default) picks a free one (read it from `simulator.url`). */
  readonly port?: number;
}

/** The settings in force, with defaults applied. */
export interface ResolvedSettings {
  latencyMs: number;
  latencyJitterMs: number;
  failureRate: number;
  failureKinds: readonly FailureKind[];
  rateLimit: Record<SimVendor, SimRateLimit | null>;
  credentials: SimCredentials;
  glairLegacyShape: boolean;
  scoreShift: Record<SimVendor, number>;
  scoreNoise: number;
}

export const DEFAULT_FAILURE_KINDS: readonly FailureKind[] = ['500', '503', 'reset'];

export function defaultSettings(): ResolvedSettings {
  return {
    latencyMs: 0,
    latencyJitterMs: 0,
    failureRate: 0,
    failureKinds: DEFAULT_FAILURE_KINDS,
    rateLimit: { ooto: null, glair: null },
    credentials: SIM_CREDENTIALS,
    glairLegacyShape: false,
    scoreShift: { ooto: 0, glair: 0 },
    scoreNoise: 0,
  };
}

/** Applies `patch` onto `current` (validated); throws RangeError for out-of-range values. */
export function applySettings(current: ResolvedSettings, patch: SimulatorSettings): ResolvedSettings {
  const next: ResolvedSettings = { ...current };
  if (patch.latencyMs !== undefined) next.latencyMs = nonNegative('latencyMs', patch.latencyMs);
  if (patch.latencyJitterMs !== undefined) next.latencyJitterMs = nonNegative('latencyJitterMs', patch.latencyJitterMs);
  if (patch.failureRate !== undefined) {
    if (!(patch.failureRate >= 0 && patch.failureRate <= 1)) throw new RangeError(`failureRate must be 0–1, got ${patch.failureRate}`);
    next.failureRate = patch.failureRate;
  }
  if (patch.failureKinds !== undefined) {
    if (patch.failureKinds.length === 0) throw new RangeError('failureKinds must name at least one kind');
    for (const k of patch.failureKinds) if (!FAILURE_KINDS.includes(k)) throw new RangeError(`unknown failure kind ${String(k)}`);
    next.failureKinds = [...patch.failureKinds];
  }
  if (patch.rateLimit !== undefined) {
    next.rateLimit = { ooto: checkLimit('ooto', patch.rateLimit.ooto), glair: checkLimit('glair', patch.rateLimit.glair) };
  }
  if (patch.credentials !== undefined) {
    next.credentials = {
      ooto: patch.credentials.ooto ?? current.credentials.ooto,
      glair: patch.credentials.glair ?? current.credentials.glair,
    };
  }
  if (patch.glairLegacyShape !== undefined) next.glairLegacyShape = patch.glairLegacyShape;
  if (patch.scoreShift !== undefined) {
    next.scoreShift = { ooto: shift('ooto', patch.scoreShift.ooto), glair: shift('glair', patch.scoreShift.glair) };
  }
  if (patch.scoreNoise !== undefined) {
    if (!(Number.isFinite(patch.scoreNoise) && patch.scoreNoise >= 0 && patch.scoreNoise <= 0.5)) throw new RangeError(`scoreNoise must be 0–0.5, got ${patch.scoreNoise}`);
    next.scoreNoise = patch.scoreNoise;
  }
  return next;
}

function shift(vendor: SimVendor, v: number | undefined): number {
  if (v === undefined) return 0;
  if (!(Number.isFinite(v) && v >= -1 && v <= 1)) throw new RangeError(`scoreShift.${vendor} must be from −1 to 1, got ${v}`);
  return v;
}

function nonNegative(name: string, v: number): number {
  if (!(Number.isFinite(v) && v >= 0)) throw new RangeError(`${name} must be a finite number ≥ 0, got ${v}`);
  return v;
}

function checkLimit(vendor: SimVendor, limit: SimRateLimit | null | undefined): SimRateLimit | null {
  if (limit === undefined || limit === null) return null;
  if (!(Number.isSafeInteger(limit.max) && limit.max > 0) || !(Number.isFinite(limit.durationMs) && limit.durationMs > 0)) {
    throw new RangeError(`rateLimit.${vendor} needs max > 0 (integer) and durationMs > 0`);
  }
  if (limit.window !== undefined && !SIM_WINDOW_KINDS.includes(limit.window)) throw new RangeError(`rateLimit.${vendor}.window: unknown kind ${String(limit.window)}`);
  if (limit.burst !== undefined && !(Number.isSafeInteger(limit.burst) && limit.burst > 0)) throw new RangeError(`rateLimit.${vendor}.burst must be a whole number > 0`);
  return { ...limit };
}
