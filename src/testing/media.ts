/**
 * Sample media for tests: real JPEG, PNG and mp4 files (they pass rescreen's own checks and the
 * simulator's decoders) whose simulator outcome is written into their bytes as the marker
 * `rescreen-sim:<directives>;`. Deterministic: the same options give the same bytes; another `seed`
 * gives other bytes (another sha256), so two files with the same outcome are still two media.
 *
 * | builder option `outcome` | `ooto-deepfake` | `ooto-identify` | `glair-video` / `glair-frames` |
 * |---|---|---|---|
 * | `'genuine'` (default) | completed, `genuine`, score 0.91–0.99 | `match` if `face` is enrolled, else `no-match` | completed, `genuine` |
 * | `'deepfake'` | completed, `deepfake`, score 0.02–0.45 | as above (its deepfake check says fake) | completed, `deepfake` |
 * | `'noface'` | rejected, code `5` | rejected, code `5` | rejected, code `"FAILED"` |
 * | `'faces'` (photos) | rejected, code `6` | rejected, code `6` | – |
 * | `'small'` (photos) | rejected, code `9` | rejected, code `9` | – |
 */
import { sampleJpeg, sampleMp4, samplePng } from '../simulator/sample-media.js';

/** The outcome a sample asks the simulator for (see the table above). */
export type SampleOutcome = 'genuine' | 'deepfake' | 'noface' | 'faces' | 'small';

/** Options of the builders. */
export interface SampleMediaOptions {
  /** Default `'genuine'`. */
  readonly outcome?: SampleOutcome;
  /** Varies the pixels (or a stamp in the mp4): other bytes, other sha256. Default 0. */
  readonly seed?: number;
}

/** Options of {@link photo}. */
export interface PhotoOptions extends SampleMediaOptions {
  /** `'jpeg'` (default) or `'png'`. */
  readonly format?: 'jpeg' | 'png';
  /** Identity of the face, for `ooto-identify`: a photo of an enrolled face (`simulator.enrol(face)`) matches it. */
  readonly face?: string;
  /** Exact OOTO deepfake score, 0–1 (`genuine` when ≥ 0.9); wins over `outcome` for the verdict. */
  readonly score?: number;
  /** Picture size in pixels, 8–1024. Default 64. */
  readonly width?: number;
  readonly height?: number;
  /** Pads the file to exactly this many bytes (size-cap tests). */
  readonly padToBytes?: number;
}

const DIRECTIVE: Record<SampleOutcome, string> = { genuine: 'genuine', deepfake: 'fake', noface: 'noface', faces: 'faces=2', small: 'small' };

function directives(outcome: SampleOutcome | undefined, extra: readonly string[] = []): string[] {
  return [DIRECTIVE[outcome ?? 'genuine'], ...extra];
}

/** A JPEG (default) or PNG photo for the OOTO checks, with its outcome in its bytes. */
export function photo(options: PhotoOptions = {}): Buffer {
  const extra = [...(options.face !== undefined ? [`face=${options.face}`] : []), ...(options.score !== undefined ? [`score=${options.score}`] : [])];
  const opts = {
    directives: directives(options.outcome, extra),
    seed: options.seed ?? 0,
    ...(options.width !== undefined ? { width: options.width } : {}),
    ...(options.height !== undefined ? { height: options.height } : {}),
    ...(options.padToBytes !== undefined ? { padToBytes: options.padToBytes } : {}),
  };
  return options.format === 'png' ? samplePng(opts) : sampleJpeg(opts);
}

/** An mp4 (ISO-BMFF, a real H.264 clip) for `glair-video`, with its outcome in its bytes. */
export function video(options: SampleMediaOptions = {}): Buffer {
  if (options.outcome === 'faces' || options.outcome === 'small') throw new RangeError(`video: outcome ${options.outcome} is for photos only`);
  return sampleMp4({ directives: directives(options.outcome), seed: options.seed ?? 0 });
}

/**
 * `count` JPEG frames for `glair-frames`. The first frame carries the outcome (GLAIR reads the
 * frames as one piece of media); the others carry none.
 */
export function frames(count: number, options: SampleMediaOptions = {}): Buffer[] {
  if (!(Number.isSafeInteger(count) && count >= 1)) throw new RangeError(`frames: count must be a whole number ≥ 1, got ${count}`);
  const seed = options.seed ?? 0;
  return Array.from({ length: count }, (_, i) =>
    i === 0 ? photo({ ...options, seed: seed * 1000 }) : sampleJpeg({ seed: seed * 1000 + i }),
  );
}
