/**
 * Per-media scripting of the simulator (the testing kit's `outcomes`): a test says what the vendor
 * "sees" in a given piece of media (by its sha256, or by a marker in its bytes) instead of the
 * directive the bytes carry, or makes that media's calls fail at the HTTP level; and every call is
 * reported for a call log.
 */
import type { Vendor } from '../vendors/types.js';
import type { SimDirectives } from './directives.js';
import type { SimEndpoint } from './stats.js';

/** An HTTP-level answer for one media's call instead of the normal one (the kinds of `FailureKind`, and 429). */
export interface ScriptedFailure {
  /** `'429'`: over quota; `'500'`/`'503'`: a server error; `'reset'`: socket destroyed; `'timeout'`: never answered. */
  readonly kind: '429' | '500' | '503' | 'reset' | 'timeout';
  /**
   * 429 only: the `Retry-After` header, whole seconds; `null` sends none. Default: the vendor's
   * manner (OOTO sends one, GLAIR none).
   */
  readonly retryAfterSeconds?: number | null;
}

/** What the script says about one screening call's media. */
export interface MediaScriptAnswer {
  /** Directives to apply instead of those in the bytes (see SimDirective), already parsed. */
  readonly directives?: SimDirectives | null;
  /** Fail this call instead of answering (consumed per call: see the testing kit's `times`). */
  readonly failure?: ScriptedFailure;
  /** Extra delay before this call's answer, ms. */
  readonly latencyMs?: number;
}

/** One vendor call as the simulator saw it. */
export interface SimCall {
  /** Epoch ms when the answer (or the failure) went out. */
  readonly at: number;
  readonly vendor: Vendor;
  readonly endpoint: SimEndpoint;
  /** sha256 hex of the screened media (frames: of the decoded frames concatenated); null before it was read, or for none. */
  readonly sha256: string | null;
  /** HTTP status answered, or `'reset'` / `'timeout'`. */
  readonly status: number | 'reset' | 'timeout';
  /** Whether a per-media script decided this answer (outcome or failure). */
  readonly scripted: boolean;
}

/** Hooks of {@link SimulatorOptions.script}. */
export interface MediaScript {
  /**
   * Directives for media with these bytes, or `undefined` to read the bytes' own. Asked once per
   * screening call after the media was read.
   */
  directivesFor?(bytes: Buffer, sha256: string): SimDirectives | null | undefined;
  /** A failure (or extra latency) for this call, asked after authentication and the quota. */
  callFor?(sha256: string, vendor: Vendor, endpoint: SimEndpoint): Omit<MediaScriptAnswer, 'directives'> | undefined;
  /** Told of every vendor call once it is answered. */
  onCall?(call: SimCall): void;
}
