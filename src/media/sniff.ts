/**
 * Identifies media by its bytes (magic numbers, through `file-type`), never by file name or by a
 * server's Content-Type, and checks it against what the vendors accept. Everything refused here
 * would be refused by the vendor too, so it ends `rejected` without a paid call.
 */
import { fileTypeFromBuffer } from 'file-type';
import { ErrorCodes, MediaRejectedError } from '../errors/errors.js';
import type { MediaBlob } from './types.js';

/** The MIME types a photo (or a frame) may have. */
export type PhotoMime = 'image/jpeg' | 'image/png';
/** The MIME type a video may have. */
export type VideoMime = 'video/mp4';
/** What a media blob is checked as: one photo / frame (JPEG or PNG) or one video (mp4). */
export type SniffKind = 'photo' | 'video';

/** Options of {@link sniffPhoto}, {@link sniffVideo} and {@link sniffMedia}. */
export interface SniffOptions {
  /** Largest size accepted, bytes. Default: no limit. */
  readonly maxBytes?: number;
  /**
   * Names the media in error messages (e.g. the reference, already stripped of any query string).
   * Default: none, messages then start with "media".
   */
  readonly label?: string;
}

/**
 * file-type's verdicts that count as an mp4: ISO-BMFF with an `ftyp` box whose brand file-type maps to
 * `video/mp4` (isom, mp41, mp42, avc1, dash, …) or to `video/x-m4v` (Apple's M4V brands). QuickTime
 * (`qt`), 3GP, HEIF/AVIF and audio-only brands are refused.
 */
const MP4_MIMES: ReadonlySet<string> = new Set(['video/mp4', 'video/x-m4v']);

/**
 * Detects a photo's type. Accepts JPEG and PNG (an animated PNG is a valid PNG whose first frame any PNG
 * decoder reads, so `image/apng` counts as `image/png`).
 * @throws MediaRejectedError `MEDIA_EMPTY` (no bytes), `MEDIA_TOO_LARGE` (over `maxBytes`),
 *   `MEDIA_UNSUPPORTED_TYPE` ("expected JPEG or PNG, got image/gif").
 */
export async function sniffPhoto(bytes: Uint8Array, options: SniffOptions = {}): Promise<PhotoMime> {
  checkSize(bytes, options);
  const mime = (await fileTypeFromBuffer(bytes))?.mime;
  if (mime === 'image/jpeg') return 'image/jpeg';
  if (mime === 'image/png' || mime === 'image/apng') return 'image/png';
  throw unsupported(options, 'JPEG or PNG', mime);
}

/**
 * Detects a video's type. Accepts mp4 only (ISO-BMFF with an `ftyp` box, see {@link MP4_MIMES}).
 * @throws MediaRejectedError `MEDIA_EMPTY`, `MEDIA_TOO_LARGE`, `MEDIA_UNSUPPORTED_TYPE`
 *   ("expected an mp4 video, got video/quicktime").
 */
export async function sniffVideo(bytes: Uint8Array, options: SniffOptions = {}): Promise<VideoMime> {
  checkSize(bytes, options);
  const detected = await fileTypeFromBuffer(bytes);
  if (detected !== undefined && MP4_MIMES.has(detected.mime)) return 'video/mp4';
  throw unsupported(options, 'an mp4 video', detected?.mime);
}

/** {@link sniffPhoto} or {@link sniffVideo} by kind. */
export function sniffMedia(bytes: Uint8Array, kind: SniffKind, options: SniffOptions = {}): Promise<MediaBlob['mime']> {
  return kind === 'photo' ? sniffPhoto(bytes, options) : sniffVideo(bytes, options);
}

/** A byte count for people: `7340032 bytes (7.0 MiB)`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  const [value, unit] = n < 1024 * 1024 ? [n / 1024, 'KiB'] : [n / (1024 * 1024), 'MiB'];
  return `${n} bytes (${value.toFixed(1)} ${unit})`;
}

function checkSize(bytes: Uint8Array, options: SniffOptions): void {
  const name = options.label ?? 'media';
  if (bytes.byteLength === 0) {
    throw new MediaRejectedError(ErrorCodes.MEDIA_EMPTY, `${name}: empty (0 bytes)`);
  }
  if (options.maxBytes !== undefined && bytes.byteLength > options.maxBytes) {
    throw new MediaRejectedError(
      ErrorCodes.MEDIA_TOO_LARGE,
      `${name}: ${formatBytes(bytes.byteLength)} is over the limit of ${formatBytes(options.maxBytes)}`,
    );
  }
}

function unsupported(options: SniffOptions, expected: string, got: string | undefined): MediaRejectedError {
  const name = options.label ?? 'media';
  return new MediaRejectedError(
    ErrorCodes.MEDIA_UNSUPPORTED_TYPE,
    `${name}: expected ${expected}, got ${got ?? 'an unrecognised type'}`,
  );
}
