/**
 * Local media files (plain paths and `file://` URLs), bounded: a file is stat'ed before it is read and
 * never read past its cap.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { ErrorCodes, MediaUnavailableError, RescreenError } from '../errors/errors.js';
import type { TooLarge } from './limits.js';

/**
 * The size of a local media file, before anything is read: shared by the loader and the dry-run probe.
 * @throws MediaUnavailableError (`MEDIA_NOT_FOUND`, `MEDIA_UNREADABLE`: a directory, not a regular file);
 *   `tooLarge(size)` when it holds more than `cap` bytes.
 */
export async function statLocal(file: string, display: string, cap: number, tooLarge: TooLarge): Promise<number> {
  let size: number;
  try {
    const stats = await stat(file);
    if (stats.isDirectory()) throw new MediaUnavailableError(ErrorCodes.MEDIA_UNREADABLE, `${display}: is a directory, not a file`);
    // FIFOs, devices and sockets could stream forever or block: only regular files are media.
    if (!stats.isFile()) throw new MediaUnavailableError(ErrorCodes.MEDIA_UNREADABLE, `${display}: not a regular file`);
    size = stats.size;
  } catch (err) {
    throw localError(err, display);
  }
  if (size > cap) throw tooLarge(size);
  return size;
}

/** Reads a local file of at most `cap` bytes; throws `tooLarge(…)` as soon as it is known to hold more. */
export async function readLocal(file: string, display: string, cap: number, signal: AbortSignal | undefined, tooLarge: TooLarge): Promise<Buffer> {
  const size = await statLocal(file, display, cap, tooLarge);
  signal?.throwIfAborted();

  // One buffer of the stat'ed size plus one byte, filled by positional reads on a file handle: the
  // usual photo costs stat, open and one read (no stream machinery, no second read to see EOF).
  let handle: FileHandle | undefined;
  try {
    handle = await open(file, 'r');
    let buffer = Buffer.allocUnsafe(size + 1);
    let total = 0;
    for (;;) {
      signal?.throwIfAborted();
      if (total === buffer.length) {
        // The file grew since stat: keep reading, at most cap + 1 bytes, enough to notice it is too large.
        const grown = Buffer.allocUnsafe(Math.min(buffer.length * 2, cap + 1));
        buffer.copy(grown, 0, 0, total);
        buffer = grown;
      }
      const { bytesRead } = await handle.read(buffer, total, buffer.length - total, total);
      total += bytesRead;
      if (total > cap) throw tooLarge(undefined);
      // End of file: nothing more, or a short read that brought exactly the stat'ed size.
      if (bytesRead === 0 || (total === size && total < buffer.length)) break;
    }
    return buffer.subarray(0, total);
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw localError(err, display);
  } finally {
    // Closed in the background: the bytes are in hand, and a read-only descriptor loses nothing if
    // closing it fails (this saves the job one trip through the thread pool).
    void handle?.close().catch(() => undefined);
  }
}

/** A filesystem error on a local media file as the loader reports it (`MEDIA_NOT_FOUND` / `MEDIA_UNREADABLE`). */
export function localError(err: unknown, display: string): Error {
  if (err instanceof RescreenError) return err;
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new MediaUnavailableError(ErrorCodes.MEDIA_NOT_FOUND, `${display}: file not found`, { cause: err });
  }
  const reason = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EISDIR' ? 'is a directory, not a file' : (code ?? 'read error');
  return new MediaUnavailableError(ErrorCodes.MEDIA_UNREADABLE, `${display}: cannot read the file (${reason})`, { cause: err });
}

