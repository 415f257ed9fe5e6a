/**
 * Simulation directives: the outcome a sample asks the simulator for, carried inside the media bytes
 * as the text `rescreen-sim:<directives>;` (a PNG tEXt chunk, a JPEG COM segment, an mp4 `free` box,
 * or anywhere else in the bytes).
 */

/** The marker that starts a directive text anywhere in media bytes. */
export const DIRECTIVE_PREFIX = 'rescreen-sim:';
/** Ends a directive text (so bytes that follow it, e.g. a PNG chunk CRC, are never read as part of it). */
export const DIRECTIVE_TERMINATOR = ';';

const PREFIX_BYTES = Buffer.from(DIRECTIVE_PREFIX, 'latin1');
/** Characters a directive text may contain: `a-z A-Z 0-9 = , . _ -`. */
const ALLOWED = new Uint8Array(256);
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789=,._-') ALLOWED[c.charCodeAt(0)] = 1;
/** A directive text longer than this is cut (it is never that long; bounds the scan). */
const MAX_DIRECTIVE_CHARS = 512;

/**
 * One simulation directive. Several may be combined, comma-separated: `fake,face=alice`.
 *
 * - `genuine` — the deepfake checks answer genuine with a high score (0.91–0.99, from the sha256 of
 *   the bytes). This is also the outcome when a directive text is present but names no verdict.
 * - `fake` — the deepfake checks answer deepfake (OOTO score 0.02–0.45, `fine: false`; GLAIR
 *   `value: "fake"`, confidence 0.55–0.98).
 * - `score=<0..1>` — the exact OOTO deepfake score (`fine` = score ≥ 0.9); GLAIR's confidence is then
 *   `1 − score` and its value `fake` when that is ≥ 0.5. Wins over `genuine` / `fake`.
 * - `noface` — OOTO engine error 5 (can not detect face); GLAIR 200 with status `FAILED` and no read.
 * - `faces=<n>` (n ≥ 2, e.g. `faces=2`) — OOTO engine error 6 (more than one face detected).
 * - `small` — OOTO engine error 9 (can not extract features, probably too small).
 * - `face=<id>` — the identity of the face, for identify: a probe with the same id as an enrolled
 *   template matches it with similarity 0.9–1; a different or absent id scores below 0.5.
 */
export type SimDirective =
  | 'genuine'
  | 'fake'
  | 'noface'
  | 'small'
  | `faces=${number}`
  | `face=${string}`
  | `score=${number}`;

/** Directives parsed from media bytes (several occurrences are merged; later ones win). */
export interface SimDirectives {
  /** `genuine` was given. */
  readonly genuine: boolean;
  /** `fake` was given. */
  readonly fake: boolean;
  /** `noface` was given. */
  readonly noface: boolean;
  /** `small` was given. */
  readonly small: boolean;
  /** `faces=<n>`: the number of faces in the picture; absent = one. */
  readonly faces?: number;
  /** `face=<id>`: identity key for identify. */
  readonly face?: string;
  /** `score=<x>`: exact deepfake score, 0–1 (clamped). */
  readonly score?: number;
  /** Tokens that were not understood (kept for diagnostics, otherwise ignored). */
  readonly unknown: readonly string[];
}

interface MutableDirectives {
  genuine: boolean;
  fake: boolean;
  noface: boolean;
  small: boolean;
  faces?: number;
  face?: string;
  score?: number;
  unknown: string[];
}

/**
 * Finds every `rescreen-sim:<directives>` text in the bytes and merges them.
 * Returns `null` when the bytes carry no directive at all: the simulator then derives the outcome from
 * the sha256 of the bytes (mostly genuine, about 15% deepfake).
 */
export function parseDirectives(bytes: Uint8Array): SimDirectives | null {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = buf.indexOf(PREFIX_BYTES);
  if (at < 0) return null;
  const out: MutableDirectives = { genuine: false, fake: false, noface: false, small: false, unknown: [] };
  while (at >= 0) {
    const start = at + PREFIX_BYTES.length;
    let end = start;
    const limit = Math.min(buf.length, start + MAX_DIRECTIVE_CHARS);
    while (end < limit && ALLOWED[buf[end]!] === 1) end += 1;
    applyText(out, buf.toString('latin1', start, end));
    at = buf.indexOf(PREFIX_BYTES, end);
  }
  return out;
}

/** Parses a directive text such as `fake,face=alice` (without the prefix). */
export function parseDirectiveText(text: string): SimDirectives {
  const out: MutableDirectives = { genuine: false, fake: false, noface: false, small: false, unknown: [] };
  applyText(out, text);
  return out;
}

function applyText(out: MutableDirectives, text: string): void {
  for (const raw of text.split(',')) {
    const token = raw.trim();
    if (token === '') continue;
    const eq = token.indexOf('=');
    const key = (eq < 0 ? token : token.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? undefined : token.slice(eq + 1);
    if (value === undefined) {
      if (key === 'genuine' || key === 'real') {
        out.genuine = true;
        out.fake = false;
      } else if (key === 'fake' || key === 'deepfake') {
        out.fake = true;
        out.genuine = false;
      } else if (key === 'noface') out.noface = true;
      else if (key === 'small') out.small = true;
      else out.unknown.push(token);
      continue;
    }
    if (key === 'face' && value !== '') out.face = value;
    else if (key === 'faces' && /^\d+$/.test(value)) out.faces = Number(value);
    else if (key === 'score' && value !== '' && Number.isFinite(Number(value))) {
      out.score = Math.min(1, Math.max(0, Number(value)));
    } else out.unknown.push(token);
  }
}

/**
 * The text to embed in media: `rescreen-sim:<d1>,<d2>;`. Accepts one directive string (which may
 * itself be comma-separated) or a list. Throws RangeError for characters a parser would not read.
 */
export function directiveText(directives: string | readonly string[]): string {
  const body = (typeof directives === 'string' ? [directives] : directives)
    .map((d) => d.trim())
    .filter((d) => d !== '')
    .join(',');
  for (let i = 0; i < body.length; i += 1) {
    const code = body.charCodeAt(i);
    if (code > 255 || ALLOWED[code] !== 1) {
      throw new RangeError(`directive text ${JSON.stringify(body)} may only contain a-z A-Z 0-9 = , . _ -`);
    }
  }
  if (body.length > MAX_DIRECTIVE_CHARS) throw new RangeError(`directive text longer than ${MAX_DIRECTIVE_CHARS} characters`);
  return `${DIRECTIVE_PREFIX}${body}${DIRECTIVE_TERMINATOR}`;
}
