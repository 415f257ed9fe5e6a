/**
 * The shape of a check's processor: a plain async function with its dependencies injected, so unit
 * tests run it with a MockAgent-backed client and temp files, no Redis.
 */
import type { MediaLoader } from '../media/types.js';
import type { CheckOutcome, JobPayload } from './types.js';

/** What a processor receives: the media loader (with its vendor's limits) and its vendor's client. */
export interface ProcessorDeps<Client = unknown> {
  readonly media: MediaLoader;
  /** The client of the check's vendor, from the vendor registry (metered by the call budget). */
  readonly client: Client;
  /** Similarity at or above which identify says `match` (IDENTIFY_MATCH_THRESHOLD, default 0.75). */
  readonly identifyMatchThreshold: number;
}

/**
 * Resolves the media, calls the vendor, normalises the answer. Throws the error taxonomy of
 * src/errors/errors.ts for everything else; the job runner turns errors into records or retries.
 */
export type Processor<Client = never> = (payload: JobPayload, deps: ProcessorDeps<Client>, signal?: AbortSignal) => Promise<CheckOutcome>;
