/** The size caps of media and the errors of a source over its cap. */
import { ErrorCodes, MediaRejectedError } from '../errors/errors.js';
import { formatBytes } from './sniff.js';

/** Builds the error for a source over its cap; `size` is the exact size when known (stat, Content-Length). */
export type TooLarge = (size: number | undefined) => MediaRejectedError;

export function overLimit(display: string, size: number | undefined, cap: number): MediaRejectedError {
  const message =
    size === undefined
      ? `${display}: larger than the limit of ${formatBytes(cap)} (stopped reading there)`
      : `${display}: ${formatBytes(size)} is over the limit of ${formatBytes(cap)}`;
  return new MediaRejectedError(ErrorCodes.MEDIA_TOO_LARGE, message);
}

/** The error of a frame that takes the frames' total (`before` bytes so far) over `cap` (the vendor's `bodyMaxBytes`). */
export function framesOverLimit(label: string, before: number, size: number | undefined, cap: number): MediaRejectedError {
  return new MediaRejectedError(
    ErrorCodes.MEDIA_TOO_LARGE,
    size === undefined
      ? `frames: ${label} takes the total over the limit of ${formatBytes(cap)} (stopped reading there)`
      : `frames: ${label} brings the total to ${formatBytes(before + size)}, over the limit of ` +
        `${formatBytes(cap)} in total`,
  );
}

