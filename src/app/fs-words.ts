/** A filesystem error in words (`no such file`), not its errno code. */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const words: Record<string, string> = {
    ENOENT: 'no such file',
    ENOTDIR: 'no such file (a parent is not a folder)',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EISDIR: 'is a folder',
  };
  if (code === undefined) return error instanceof Error ? error.message : String(error);
  return words[code] ?? code;
}
