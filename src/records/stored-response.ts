/**
 * What of a vendor's answer goes into a record: every configured secret removed (a vendor error page
 * may echo our request headers back), and at most `maxBytes` of it, with the size and sha256 of the
 * whole answer so an auditor can still tell which answer it was.
 */
import { createHash } from 'node:crypto';
import { DEFAULT_MAX_RESPONSE_BYTES } from '../config/defaults.js';

/** Default of RESCREEN_MAX_RESPONSE_BYTES: 64 KiB. */
export { DEFAULT_MAX_RESPONSE_BYTES } from '../config/defaults.js';

/** The response fields of a record. The last three are present only when the answer was cut. */
export interface StoredResponse {
  /** The answer, redacted; when cut, the start of its JSON text, a string whose JSON form is at most `maxBytes` bytes. */
  readonly response: unknown;
  readonly responseTruncated?: true;
  /** Bytes of the whole (redacted) answer as JSON text. */
  readonly responseBytes?: number;
  /** sha256 (hex) of the whole (redacted) answer as JSON text. */
  readonly responseSha256?: string;
}

/** Applies `redact` to every string (values and keys) of a JSON-like value. */
export function redactDeep(value: unknown, redact: (text: string) => string, depth = 0): unknown {
  if (typeof value === 'string') return redact(value);
  if (value === null || typeof value !== 'object' || depth > 64) return value;
  if (Array.isArray(value)) return value.map((v: unknown) => redactDeep(v, redact, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [redact(k), redactDeep(v, redact, depth + 1)]));
}

/**
 * What RESCREEN_KEEP_RESPONSE=minimal drops from a vendor answer, at any depth: the vendor's
 * demography (age, gender, race, emotion) and face landmarks. The verdict, the scores, the face box,
 * the codes and the ids stay: what the verdict, the score and an audit need.
 */
export const MINIMISED_KEYS: ReadonlySet<string> = new Set(['demography', 'demographics', 'age', 'gender', 'race', 'ethnicity', 'emotion', 'emotions', 'landmarks']);

/** The answer without {@link MINIMISED_KEYS} (a copy; the input is not changed). */
export function minimiseResponse(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object' || depth > 64) return value;
  if (Array.isArray(value)) return value.map((v: unknown) => minimiseResponse(v, depth + 1));
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => !MINIMISED_KEYS.has(k.toLowerCase()))
      .map(([k, v]) => [k, minimiseResponse(v, depth + 1)]),
  );
}

/** The response fields to store for `answer` (see {@link StoredResponse}). */
export function storedResponse(answer: unknown, redact: (text: string) => string, maxBytes = DEFAULT_MAX_RESPONSE_BYTES): StoredResponse {
  if (answer === null || answer === undefined) return { response: null };
  const clean = redactDeep(answer, redact);
  const text = JSON.stringify(clean);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes <= maxBytes) return { response: clean };
  // Cut on a character boundary: decoding a partial UTF-8 sequence would add U+FFFD bytes.
  let cut = Buffer.from(text, 'utf8').subarray(0, maxBytes).toString('utf8');
  if (cut.endsWith('\uFFFD')) cut = cut.slice(0, -1);
  // Stored as a JSON string, the cut grows by its escapes (every `"` of the answer becomes `\"`):
  // shorten it until the stored form itself fits.
  for (let stored = Buffer.byteLength(JSON.stringify(cut)); stored > maxBytes; stored = Buffer.byteLength(JSON.stringify(cut))) {
    cut = cut.slice(0, Math.max(0, Math.floor((cut.length * maxBytes) / stored) - 2));
  }
  return {
    response: cut,
    responseTruncated: true,
    responseBytes: bytes,
    responseSha256: createHash('sha256').update(text, 'utf8').digest('hex'),
  };
}
