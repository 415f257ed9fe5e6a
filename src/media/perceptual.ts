/**
 * Perceptual hashes of media (issue 20, fraud rings): a 64-bit pHash (DCT of a 32×32 grayscale
 * thumbnail, the 8×8 lowest frequencies against their median) and a 64-bit dHash (horizontal
 * gradient signs of a 9×8 thumbnail), as 16 hex digits each. Decoding is sharp's (libvips), never by
 * hand. A re-encode, a resize, a PNG↔JPEG conversion, a brightness shift or a slight crop moves a few
 * bits; a different picture moves about half of them (README: Fraud rings, the measured distances).
 * mp4: the first keyframe, decoded by ffmpeg when it is on PATH (Debian package `ffmpeg`); else the
 * digest says `notHashed` with the reason. Nothing here makes a network call, and nothing throws: an
 * undecodable picture is `notHashed`, never a failed line.
 */
import { spawn } from 'node:child_process';
import sharp from 'sharp';

// Thumbnails are tiny: one libvips thread each and no operation cache, so hashing never crowds out
// the worker's own I/O and timers (it runs while the vendor call is out).
sharp.concurrency(1);
sharp.cache(false);

/** The perceptual part of a media digest: both hashes, or why there are none. */
export type PerceptualHash = PictureHashes | { readonly notHashed: string };

/**
 * The hashes of one picture: of the whole (`phash`, `dhash`) and of its centre 95 % (`cphash`,
 * `cdhash`: a copy cropped by 5 % compares its whole with the original's centre).
 */
export interface PictureHashes {
  readonly phash: string;
  readonly dhash: string;
  readonly cphash: string;
  readonly cdhash: string;
}

/** The link rule's threshold on pHash + 2·dHash (measured: README, Fraud rings). */
export const NEAR_SCORE_MAX = 9;
/** No link beyond this pHash distance, whatever the dHash (and the index's band search radius). */
export const PHASH_MAX = 9;

/**
 * How near two pictures are: the closest of whole↔whole, whole↔centre and centre↔whole, as
 * (pHash, dHash) distances of that pairing (the one with the smallest pHash, then dHash).
 */
export function distance(a: PictureHashes, b: PictureHashes): { phash: number; dhash: number } {
  const pairs = [
    { phash: hamming(a.phash, b.phash), dhash: hamming(a.dhash, b.dhash) },
    { phash: hamming(a.phash, b.cphash), dhash: hamming(a.dhash, b.cdhash) },
    { phash: hamming(a.cphash, b.phash), dhash: hamming(a.cdhash, b.dhash) },
  ];
  return pairs.reduce((m, p) => (p.phash < m.phash || (p.phash === m.phash && p.dhash < m.dhash) ? p : m));
}

/**
 * The link rule: pHash + 2·dHash ≤ {@link NEAR_SCORE_MAX} (so pHash ≤ 9 always). Measured on the
 * generated set: the altered copies score ≤ 8, distinct pictures ≥ 10 (README, Fraud rings).
 */
export function isNear(d: { phash: number; dhash: number }): boolean {
  return d.phash <= PHASH_MAX && d.phash + 2 * d.dhash <= NEAR_SCORE_MAX;
}

/** Bits that differ between two 16-hex-digit hashes. */
export function hamming(a: string, b: string): number {
  let x = BigInt(`0x${a}`) ^ BigInt(`0x${b}`);
  let n = 0;
  while (x > 0n) {
    x &= x - 1n;
    n += 1;
  }
  return n;
}

const N = 32;
/** cos((2x+1)uπ/2N) for u < 8, x < 32: the only DCT rows pHash reads. */
const COS: Float64Array[] = Array.from({ length: 8 }, (_, u) => Float64Array.from({ length: N }, (_, x) => Math.cos(((2 * x + 1) * u * Math.PI) / (2 * N))));

function bitsToHex(bits: readonly boolean[]): string {
  let out = '';
  for (let i = 0; i < 64; i += 4) out += ((Number(bits[i]) << 3) | (Number(bits[i + 1]) << 2) | (Number(bits[i + 2]) << 1) | Number(bits[i + 3])).toString(16);
  return out;
}

/** pHash of a 32×32 grayscale raster. */
export function phashOf(gray: Uint8Array): string {
  // Separable 2-D DCT, only the 8×8 low block: rows first (32×8), then columns.
  const rows = new Float64Array(N * 8);
  for (let y = 0; y < N; y += 1) for (let u = 0; u < 8; u += 1) {
    let s = 0;
    const c = COS[u]!;
    for (let x = 0; x < N; x += 1) s += gray[y * N + x]! * c[x]!;
    rows[y * 8 + u] = s;
  }
  const coeffs: number[] = [];
  for (let v = 0; v < 8; v += 1) for (let u = 0; u < 8; u += 1) {
    let s = 0;
    const c = COS[v]!;
    for (let y = 0; y < N; y += 1) s += rows[y * 8 + u]! * c[y]!;
    coeffs.push(s);
  }
  // The DC term says only how bright the picture is: the median is taken without it.
  const median = [...coeffs.slice(1)].sort((a, b) => a - b)[31]!;
  return bitsToHex(coeffs.map((c) => c > median));
}

/** dHash of a 9×8 grayscale raster. */
export function dhashOf(gray: Uint8Array): string {
  const bits: boolean[] = [];
  for (let y = 0; y < 8; y += 1) for (let x = 0; x < 8; x += 1) bits.push(gray[y * 9 + x]! < gray[y * 9 + x + 1]!);
  return bitsToHex(bits);
}

async function thumb(gray: sharp.Sharp, width: number, height: number): Promise<Uint8Array> {
  return gray.clone().resize(width, height, { fit: 'fill', kernel: 'cubic' }).raw().toBuffer();
}

/** Both hashes of an image (JPEG, PNG, anything sharp decodes); `notHashed` with the decoder's reason. */
export async function hashImage(bytes: Buffer | Uint8Array): Promise<PerceptualHash> {
  try {
    // Decoded once, to grey at full size; the four thumbnails are taken from that.
    const { data, info } = await sharp(bytes, { failOn: 'error' }).rotate().grayscale().raw().toBuffer({ resolveWithObject: true });
    const whole = sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } });
    const cutX = Math.floor(info.width * 0.025);
    const cutY = Math.floor(info.height * 0.025);
    const centre = whole.clone().extract({ left: cutX, top: cutY, width: info.width - 2 * cutX, height: info.height - 2 * cutY });
    const [p, d, cp, cd] = await Promise.all([thumb(whole, N, N), thumb(whole, 9, 8), thumb(centre, N, N), thumb(centre, 9, 8)]);
    return { phash: phashOf(p), dhash: dhashOf(d), cphash: phashOf(cp), cdhash: dhashOf(cd) };
  } catch (error) {
    return { notHashed: `undecodable image: ${firstLine(error)}` };
  }
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 200);
}

/** How long ffmpeg may take for one keyframe before the video is `notHashed`. */
const FFMPEG_TIMEOUT_MS = 15_000;

/** The first keyframe of an mp4 as PNG bytes, through ffmpeg on PATH. */
function firstKeyframe(bytes: Buffer | Uint8Array, ffmpeg: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpeg, ['-v', 'error', '-skip_frame', 'nokey', '-i', 'pipe:0', '-frames:v', '1', '-f', 'image2pipe', '-vcodec', 'png', 'pipe:1'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: FFMPEG_TIMEOUT_MS,
    });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    // ffmpeg may stop reading stdin once it has its frame.
    child.stdin.on('error', () => undefined);
    child.on('close', (code) => {
      const png = Buffer.concat(out);
      if (png.length > 0) resolve(png);
      else reject(new Error(err.trim().split('\n')[0] || `ffmpeg exited ${String(code)}`));
    });
    child.stdin.end(bytes);
  });
}

/** Options of {@link hashMedia}. */
export interface HashMediaOptions {
  /** The ffmpeg to decode mp4 keyframes with: a path, `'ffmpeg'` (PATH, the default) or null (no decoder). */
  readonly ffmpeg?: string | null;
}

/** Hashes of one medium by its sniffed type: images directly, mp4 by its first keyframe. */
export async function hashMedia(bytes: Buffer | Uint8Array, mime: string, options: HashMediaOptions = {}): Promise<PerceptualHash> {
  if (mime.startsWith('image/')) return hashImage(bytes);
  if (mime === 'video/mp4') {
    const ffmpeg = options.ffmpeg === undefined ? 'ffmpeg' : options.ffmpeg;
    if (ffmpeg === null) return { notHashed: 'no video decoder: install ffmpeg (Debian package ffmpeg) to hash mp4 keyframes' };
    let frame: Buffer;
    try {
      frame = await firstKeyframe(bytes, ffmpeg);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return { notHashed: code === 'ENOENT' ? 'no video decoder: ffmpeg is not on PATH (Debian package ffmpeg)' : `undecodable video: ${firstLine(error)}` };
    }
    return hashImage(frame);
  }
  return { notHashed: `no perceptual hash for ${mime}` };
}
