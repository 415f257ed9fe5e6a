/**
 * Identifies media by its bytes (magic numbers, through `file-type`), never by file name or by a
 * server's Content-Type, and checks it against what the vendors accept. Everything refused here
 * would be refused by the vendor too, so it ends `rejected` without a paid call.
 */
import { open } from 'node:fs/promises';
import { fileTypeFromBuffer, fileTypeFromFile } from 'file-type';
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
  checkMediaSize(bytes.byteLength, options);
  return acceptPhoto((await fileTypeFromBuffer(bytes))?.mime, options);
}

/**
 * Detects a video's type. Accepts mp4 only (ISO-BMFF with an `ftyp` box, see {@link MP4_MIMES}).
 * @throws MediaRejectedError `MEDIA_EMPTY`, `MEDIA_TOO_LARGE`, `MEDIA_UNSUPPORTED_TYPE`
 *   ("expected an mp4 video, got video/quicktime").
 */
export async function sniffVideo(bytes: Uint8Array, options: SniffOptions = {}): Promise<VideoMime> {
  checkMediaSize(bytes.byteLength, options);
  return acceptVideo((await fileTypeFromBuffer(bytes))?.mime, options);
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

/**
 * The media type rescreen accepts that a `file-type` verdict stands for: JPEG, PNG (APNG counts), mp4
 * (see {@link MP4_MIMES}); `undefined` for anything else. The one mapping behind {@link sniffPhoto},
 * {@link sniffVideo}, the folder walker and the dry-run probe.
 */
export function acceptedMime(detected: string | undefined): MediaBlob['mime'] | undefined {
  if (detected === 'image/jpeg') return 'image/jpeg';
  if (detected === 'image/png' || detected === 'image/apng') return 'image/png';
  if (detected !== undefined && MP4_MIMES.has(detected)) return 'video/mp4';
  return undefined;
}

/** The input kind of an accepted media type: JPEG/PNG are photos (and frames), mp4 is a video. */
export function kindOfMime(mime: MediaBlob['mime']): SniffKind {
  return mime === 'video/mp4' ? 'video' : 'photo';
}

/**
 * The photo type of a `file-type` verdict.
 * @throws MediaRejectedError `MEDIA_UNSUPPORTED_TYPE` when it is not JPEG or PNG.
 */
export function acceptPhoto(detected: string | undefined, options: SniffOptions = {}): PhotoMime {
  const mime = acceptedMime(detected);
  if (mime === 'image/jpeg' || mime === 'image/png') return mime;
  throw unsupported(options, 'JPEG or PNG', detected);
}

/**
 * The video type of a `file-type` verdict.
 * @throws MediaRejectedError `MEDIA_UNSUPPORTED_TYPE` when it is not an mp4.
 */
export function acceptVideo(detected: string | undefined, options: SniffOptions = {}): VideoMime {
  if (acceptedMime(detected) === 'video/mp4') return 'video/mp4';
  throw unsupported(options, 'an mp4 video', detected);
}

/**
 * The size rules of {@link sniffPhoto} / {@link sniffVideo} on a byte count (a `stat` size, for
 * checks that do not read the file).
 * @throws MediaRejectedError `MEDIA_EMPTY` (0 bytes), `MEDIA_TOO_LARGE` (over `maxBytes`).
 */
export function checkMediaSize(byteLength: number, options: SniffOptions = {}): void {
  const name = options.label ?? 'media';
  if (byteLength === 0) {
    throw new MediaRejectedError(ErrorCodes.MEDIA_EMPTY, `${name}: empty (0 bytes)`);
  }
  if (options.maxBytes !== undefined && byteLength > options.maxBytes) {
    throw new MediaRejectedError(
      ErrorCodes.MEDIA_TOO_LARGE,
      `${name}: ${formatBytes(byteLength)} is over the limit of ${formatBytes(options.maxBytes)}`,
    );
  }
}

/** Files up to this size are read whole and sniffed exactly as the loader sniffs what it read. */
export const SNIFF_HEAD_BYTES = 8 * 1024;

/**
 * The `file-type` verdict (MIME type) of a local file of `size` bytes, reading only what detection
 * needs: a file of at most {@link SNIFF_HEAD_BYTES} is read whole and sniffed like a loaded buffer; a
 * larger one through file-type's file tokenizer, which reads the first few KB and seeks past the rest
 * (PNG chunks, for one), so the verdict is the one the same bytes would get in memory.
 * `undefined` when the type is not recognised. Filesystem errors (ENOENT, EACCES, …) are thrown as they are.
 */
export async function detectFileMime(path: string, size: number): Promise<string | undefined> {
  if (size > SNIFF_HEAD_BYTES) return (await fileTypeFromFile(path))?.mime;
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(SNIFF_HEAD_BYTES + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return (await fileTypeFromBuffer(buffer.subarray(0, bytesRead)))?.mime;
  } finally {
    await handle.close();
  }
}

function unsupported(options: SniffOptions, expected: string, got: string | undefined): MediaRejectedError {
  const name = options.label ?? 'media';
  return new MediaRejectedError(
    ErrorCodes.MEDIA_UNSUPPORTED_TYPE,
    `${name}: expected ${expected}, got ${got ?? 'an unrecognised type'}`,
  );
}
