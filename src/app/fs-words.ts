import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/** A filesystem error in words (`no such file`), not its errno code. */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const words: Record<string, string> = {
    ENOENT: 'no such file',
    ENOTDIR: 'no such file (a parent is not a folder)',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EISDIR: 'is a folder',
    EEXIST: 'it already exists',
    ENOSPC: 'no space left on the device',
    EROFS: 'the file system is read-only',
  };
  if (code === undefined) return error instanceof Error ? error.message : String(error);
  return words[code] ?? code;
}

/**
 * Why a file could not be written, naming the folder when the folder is the problem
 * (`the folder /data/keys does not exist`) rather than blaming the file that was never there.
 */
export async function describeWriteError(path: string, error: unknown): Promise<string> {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    const folder = dirname(resolve(path));
    const found = await stat(folder).catch(() => undefined);
    if (found === undefined) return `the folder ${folder} does not exist (create it first)`;
    if (!found.isDirectory()) return `${folder} is not a folder`;
  }
  return describeFsError(error);
}
