/**
 * The shape of a check's processor: a plain async function with its dependencies injected, so unit
 * tests run it with a MockAgent-backed client and temp files, no Redis.
 */
import type { MediaLoader } from '../media/types.js';
import type { GlairClient, OotoClient } from '../vendors/types.js';
import type { CheckOutcome, JobPayload } from './types.js';

export interface ProcessorDeps {
  readonly media: MediaLoader;
  readonly ooto: OotoClient;
  readonly glair: GlairClient;
  /** Similarity at or above which identify says `match` (IDENTIFY_MATCH_THRESHOLD, default 0.75). */
  readonly identifyMatchThreshold: number;
}

/**
 * Resolves the media, calls the vendor, normalises the answer. Throws the error taxonomy of
 * src/errors/errors.ts for everything else; the job runner turns errors into records or retries.
 */
export type Processor = (payload: JobPayload, deps: ProcessorDeps, signal?: AbortSignal) => Promise<CheckOutcome>;
