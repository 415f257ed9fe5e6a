/**
 * JPEG encoding with jpeg-js, made affordable for thousands of samples.
 *
 * Why: jpeg-js's public `encode()` builds a new encoder per call, and building one costs about 40 ms
 * (a 65,535-entry category table), while encoding a 64×64 picture takes well under a millisecond. Its
 * `JPEGEncoder` class (whose instances are reusable) is not exported, so it is loaded here from the
 * installed jpeg-js's own encoder source. Should that ever fail (a jpeg-js layout change), the public
 * `encode()` is used: slower, same bytes.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { compileFunction } from 'node:vm';
import jpeg from 'jpeg-js';

/** RGBA pixels plus optional COM comments, as jpeg-js takes them. */
export interface JpegInput {
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
  readonly comments?: string[];
}

interface ReusableEncoder {
  encode(image: JpegInput, quality: number): Buffer;
}

let reusable: ReusableEncoder | null | undefined;

/** Encodes RGBA pixels as a baseline JPEG (jpeg-js), comments written as COM segments. */
export function encodeJpeg(image: JpegInput, quality: number): Buffer {
  reusable ??= loadReusableEncoder(quality);
  if (reusable !== null) return reusable.encode(image, quality);
  return jpeg.encode(image.comments ? image : { data: image.data, width: image.width, height: image.height }, quality).data;
}

function loadReusableEncoder(quality: number): ReusableEncoder | null {
  try {
    const require = createRequire(import.meta.url);
    const path = require.resolve('jpeg-js/lib/encoder.js');
    const source = readFileSync(path, 'utf8');
    const factory = compileFunction(`${source}\n;return JPEGEncoder;`, ['module', 'exports', 'require'], { filename: path }) as (
      module: { exports: unknown },
      exports: unknown,
      require: NodeJS.Require,
    ) => new (quality: number) => ReusableEncoder;
    const Encoder = factory({ exports: {} }, {}, require);
    const encoder = new Encoder(quality);
    // Sanity check against the public API before trusting it.
    const probe: JpegInput = { data: Buffer.alloc(8 * 8 * 4, 200), width: 8, height: 8, comments: ['probe'] };
    const mine = encoder.encode(probe, quality);
    const theirs = jpeg.encode(probe, quality).data;
    return Buffer.isBuffer(mine) && mine.equals(theirs) ? encoder : null;
  } catch {
    return null;
  }
}
