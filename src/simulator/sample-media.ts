/**
 * Real sample media (PNG, JPEG, mp4) whose simulated outcome is written into the bytes as a directive
 * (see directives.ts). Used by the demo, the tests and the benchmark. Deterministic: the same options
 * always give the same bytes; a different `seed` gives different pixels, so different bytes and sha256.
 */
import { crc32 } from 'node:zlib';
import { PNG } from 'pngjs';
import { BASE_CLIP_MP4_BASE64 } from './assets/base-clip.js';
import { directiveText } from './directives.js';
import { encodeJpeg } from './jpeg-encoder.js';
import { Prng } from './prng.js';

/** Options of {@link samplePng}, {@link sampleJpeg} and {@link sampleMp4}. */
export interface SampleOptions {
  /**
   * Directives to embed, e.g. `'fake'`, `'fake,face=alice'` or `['face=alice', 'score=0.95']`
   * (see `SimDirective` in directives.ts). Omitted or empty: no directive is embedded and the simulator derives
   * the outcome from the sha256 of the bytes (mostly genuine, about 15% deepfake).
   */
  readonly directives?: string | readonly string[];
  /** Varies the pixels (images) or a stamp in the file (mp4), hence the bytes. Integer, default 0. */
  readonly seed?: number;
  /**
   * Pads the file to exactly this many bytes (for size-cap tests, e.g. `7 * 1024 * 1024`), with an
   * ancillary `paDd` chunk (PNG), APP15 segments (JPEG) or zeros in the trailing `free` box (mp4), all
   * skipped by decoders. Must be the unpadded size, or at least the unpadded size plus one padding header
   * (PNG 12 bytes, JPEG 4, an mp4 without a `free` box 8); RangeError otherwise.
   */
  readonly padToBytes?: number;
}

/** Image sample options: {@link SampleOptions} plus the picture size. */
export interface ImageSampleOptions extends SampleOptions {
  /** Picture width in pixels, 8–1024. Default 64. */
  readonly width?: number;
  /** Picture height in pixels, 8–1024. Default 64. */
  readonly height?: number;
}

const DEFAULT_SIDE = 64;

/** A PNG (8-bit RGBA) with the directive in a `tEXt` chunk (keyword `Comment`) right after IHDR. */
export function samplePng(opts: ImageSampleOptions = {}): Buffer {
  const { width, height } = sideOf(opts);
  const png = new PNG({ width, height });
  paint(png.data, width, height, opts.seed ?? 0);
  let bytes = PNG.sync.write(png);
  const chunks: Buffer[] = [];
  if (hasDirectives(opts.directives)) {
    chunks.push(pngChunk('tEXt', Buffer.from(`Comment\0${directiveText(opts.directives)}`, 'latin1')));
  }
  // 8-byte signature + IHDR (4 length + 4 type + 13 data + 4 CRC).
  const afterIhdr = 8 + 25;
  if (opts.padToBytes !== undefined) {
    const natural = bytes.length + chunks.reduce((n, c) => n + c.length, 0);
    const extra = paddingNeeded(opts.padToBytes, natural, 12, 'PNG');
    if (extra > 0) chunks.push(pngChunk('paDd', Buffer.alloc(extra - 12)));
  }
  if (chunks.length > 0) bytes = Buffer.concat([bytes.subarray(0, afterIhdr), ...chunks, bytes.subarray(afterIhdr)]);
  return bytes;
}

/** A baseline JPEG (jpeg-js, quality 85) with the directive in a COM segment (jpeg-js `comments`). */
export function sampleJpeg(opts: ImageSampleOptions = {}): Buffer {
  const { width, height } = sideOf(opts);
  const data = Buffer.alloc(width * height * 4);
  paint(data, width, height, opts.seed ?? 0);
  const comments = hasDirectives(opts.directives) ? [directiveText(opts.directives)] : undefined;
  let bytes = encodeJpeg(comments ? { data, width, height, comments } : { data, width, height }, 85);
  if (opts.padToBytes !== undefined) {
    const extra = paddingNeeded(opts.padToBytes, bytes.length, 4, 'JPEG');
    if (extra > 0) {
      const at = afterJfif(bytes);
      bytes = Buffer.concat([bytes.subarray(0, at), ...jpegPadding(extra), bytes.subarray(at)]);
    }
  }
  return bytes;
}

/**
 * A real, playable mp4 (1 s, 64×64 H.264, `ftyp` first) with a top-level `free` box appended that
 * carries the seed stamp, the directive and any padding. Without directives, seed and padding it is
 * the bare base clip.
 */
export function sampleMp4(opts: SampleOptions = {}): Buffer {
  const base = baseClip();
  const parts: string[] = [];
  if (opts.seed !== undefined && opts.seed !== 0) parts.push(`seed=${opts.seed}\n`);
  if (hasDirectives(opts.directives)) parts.push(directiveText(opts.directives));
  const text = Buffer.from(parts.join(''), 'latin1');
  // The `free` box payload: the text, then zero padding. No box at all when there is nothing to carry.
  let payloadLength: number | null = text.length > 0 ? text.length : null;
  const target = opts.padToBytes;
  if (target !== undefined && !(text.length === 0 && target === base.length)) {
    if (!Number.isSafeInteger(target) || target - base.length - 8 < text.length) {
      throw new RangeError(`padToBytes ${target}: the mp4 sample needs at least ${base.length + 8 + text.length} bytes`);
    }
    payloadLength = target - base.length - 8;
  }
  if (payloadLength === null) return Buffer.from(base);
  const out = Buffer.alloc(base.length + 8 + payloadLength);
  base.copy(out, 0);
  out.writeUInt32BE(8 + payloadLength, base.length);
  out.write('free', base.length + 4, 'latin1');
  text.copy(out, base.length + 8);
  return out;
}

/** The same picture as raw RGBA pixels (for callers that want to encode it themselves). */
export function samplePixels(opts: ImageSampleOptions = {}): { width: number; height: number; data: Buffer } {
  const { width, height } = sideOf(opts);
  const data = Buffer.alloc(width * height * 4);
  paint(data, width, height, opts.seed ?? 0);
  return { width, height, data };
}

let baseClipBytes: Buffer | undefined;
function baseClip(): Buffer {
  baseClipBytes ??= Buffer.from(BASE_CLIP_MP4_BASE64, 'base64');
  return baseClipBytes;
}

function hasDirectives(d: string | readonly string[] | undefined): d is string | readonly string[] {
  if (d === undefined) return false;
  return typeof d === 'string' ? d.trim() !== '' : d.some((x) => x.trim() !== '');
}

function sideOf(opts: ImageSampleOptions): { width: number; height: number } {
  const width = opts.width ?? DEFAULT_SIDE;
  const height = opts.height ?? DEFAULT_SIDE;
  for (const [name, v] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(v) || v < 8 || v > 1024) throw new RangeError(`${name} must be an integer 8–1024, got ${v}`);
  }
  return { width, height };
}

/** Extra bytes to add so the file is `target` bytes: 0, or at least one padding header. */
function paddingNeeded(target: number, natural: number, header: number, kind: string): number {
  if (!Number.isSafeInteger(target)) throw new RangeError(`padToBytes must be an integer, got ${target}`);
  const extra = target - natural;
  if (extra === 0) return 0;
  if (extra < header) {
    throw new RangeError(`padToBytes ${target}: the ${kind} sample is ${natural} bytes; ask for exactly that or at least ${natural + header}`);
  }
  return extra;
}

/**
 * Paints a simple face (skin oval, eyes, mouth) on a seeded background. The seed's four bytes are also
 * stamped into the first two pixels so that any two 32-bit seeds give different pixels.
 */
function paint(data: Buffer, width: number, height: number, seed: number): void {
  const rng = new Prng(seed >>> 0);
  const bg = [64 + rng.int(128), 64 + rng.int(128), 64 + rng.int(128)] as const;
  const skin = [200 + rng.int(40), 150 + rng.int(40), 120 + rng.int(40)] as const;
  const cx = width / 2;
  const cy = height / 2;
  const rx = width * 0.3;
  const ry = height * 0.38;
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const i = (y * width + x) * 4;
      const dx = (x - cx) / rx;
      const dy = (y - cy) / ry;
      const inFace = dx * dx + dy * dy <= 1;
      const eye = isEye(x, y, width, height);
      const mouth = Math.abs(y - height * 0.68) < height * 0.03 && Math.abs(x - cx) < width * 0.12;
      const shade = ((x + y) & 7) * 2;
      let rgb: readonly [number, number, number];
      if (inFace && (eye || mouth)) rgb = [40, 30, 30];
      else if (inFace) rgb = [skin[0] - shade, skin[1] - shade, skin[2] - shade];
      else rgb = [bg[0] + shade, bg[1] + shade, bg[2] + shade];
      data[i] = rgb[0];
      data[i + 1] = rgb[1];
      data[i + 2] = rgb[2];
      data[i + 3] = 255;
    }
  }
  const s = seed >>> 0;
  data[0] = s >>> 24;
  data[1] = (s >>> 16) & 255;
  data[4] = (s >>> 8) & 255;
  data[5] = s & 255;
}

function isEye(x: number, y: number, width: number, height: number): boolean {
  const ey = height * 0.42;
  const r = Math.max(1, width * 0.05);
  const left = (x - width * 0.38) ** 2 + (y - ey) ** 2 <= r * r;
  const right = (x - width * 0.62) ** 2 + (y - ey) ** 2 <= r * r;
  return left || right;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** Offset just after SOI and, when present, the APP0 (JFIF) segment that must follow it. */
function afterJfif(bytes: Buffer): number {
  if (bytes[2] === 0xff && bytes[3] === 0xe0) return 4 + bytes.readUInt16BE(4);
  return 2;
}

/** APP15 segments (each 4–65,537 bytes) adding up to exactly `extra` bytes (`extra` ≥ 4). */
function jpegPadding(extra: number): Buffer[] {
  const segments: Buffer[] = [];
  let remaining = extra;
  while (remaining > 0) {
    let take = Math.min(65_537, remaining);
    if (remaining - take > 0 && remaining - take < 4) take = remaining - 4;
    const seg = Buffer.alloc(take);
    seg[0] = 0xff;
    seg[1] = 0xef;
    seg.writeUInt16BE(take - 2, 2);
    segments.push(seg);
    remaining -= take;
  }
  return segments;
}
