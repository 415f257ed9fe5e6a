/**
 * The vendor layer's words: a vendor's name and label, the gate every call passes, and what the
 * clients answer. A vendor's definition (./definition.ts) is built from these.
 */
import type { MediaBlob } from '../media/types.js';

/**
 * A vendor's name, as its definition has it (`ooto`, `glair`, …): its queue, its key in
 * `config.vendors`, its records' and errors' `vendor`.
 */
export type Vendor = string;

/** The words a vendor is known by: its name and its label for messages (a VendorDefinition is one). */
export interface VendorIdentity {
  readonly name: Vendor;
  /** Human name in messages, e.g. `OOTO`. */
  readonly label: string;
}

/** A successful (HTTP 2xx, usable) vendor answer. */
export interface VendorAnswer<T> {
  /** OOTO: body `transactionId`; GLAIR: `Request-Id` header. */
  readonly transactionId: string | null;
  readonly status: number;
  /** The answer parsed and normalised by the zod schema. */
  readonly result: T;
  /** The JSON body as received (extra fields kept), for the audit record. */
  readonly body: unknown;
}

/**
 * Passed by every vendor call, before it is sent and when its answer arrives (the quota's admission
 * control implements it; see src/quota/admission.ts).
 */
export interface CallGate {
  /**
   * Resolves when one call may be sent now, with the permit when one was counted (to give back if
   * the call is not sent after all); may throw (e.g. QuotaWaitError) to send none.
   */
  admit(signal?: AbortSignal): Promise<CallPermit | undefined>;
  /** Every HTTP answer: its status, `Retry-After` in ms (429 only), how long the call took (ms), and the permit admit() gave. */
  answered(status: number, retryAfterMs: number | undefined, latencyMs: number, permit?: CallPermit): Promise<void>;
  /** A call that got no HTTP answer (refused, reset, timeout, aborted): the error, and the permit admit() gave. */
  unanswered?(error: unknown, permit?: CallPermit): Promise<void>;
}

/** A permit of the quota, taken for one call. */
export interface CallPermit {
  /** Gives it back: the call it was taken for is not sent (its batch refused it). */
  release(): Promise<void>;
}

/** `ooto-identify`'s options: OOTO's identify query flags, sent only when `true`. */
export interface IdentifyOptions {
  readonly checkLiveness?: boolean | undefined;
  readonly checkDeepfake?: boolean | undefined;
}

export interface CallOptions {
  readonly signal?: AbortSignal;
}

/** `result.deepfake` of OOTO's deepfake answer. */
export interface OotoDeepfakeResult {
  readonly score: number;
  readonly fine: boolean;
}

export interface OotoIdentifyResult {
  readonly templateId: string | null;
  readonly similarity: number;
}

export interface OotoAddResult {
  readonly templateId: string;
}

/** GLAIR's deepfake read, normalised from either the current or the older answer shape. */
export interface GlairDeepfakeResult {
  readonly value: 'real' | 'fake';
  /** Probability that the input is fake, 0–1 (the samples show 0.998 → fake, 0.064 → real). */
  readonly confidence: number;
}

/**
 * OOTO client. Throws the taxonomy of src/errors/errors.ts: engine errors (HTTP 400 with
 * `result.code`) as VendorRejectedError with the vendor's numeric code and transaction id.
 */
export interface OotoClient {
  deepfake(photo: MediaBlob, options?: CallOptions): Promise<VendorAnswer<OotoDeepfakeResult>>;
  identify(photo: MediaBlob, flags: IdentifyOptions, options?: CallOptions): Promise<VendorAnswer<OotoIdentifyResult>>;
  /** Enrol a photo in the 1:N database (used by the demo and tests to seed the simulator). */
  add(photo: MediaBlob, templateId?: string, options?: CallOptions): Promise<VendorAnswer<OotoAddResult>>;
  close(): Promise<void>;
}

/** GLAIR client. Statuses other than SUCCESS, 400 and 415 throw VendorRejectedError (code = status). */
export interface GlairClient {
  video(video: MediaBlob, options?: CallOptions): Promise<VendorAnswer<GlairDeepfakeResult>>;
  frames(frames: readonly MediaBlob[], options?: CallOptions): Promise<VendorAnswer<GlairDeepfakeResult>>;
  close(): Promise<void>;
}
