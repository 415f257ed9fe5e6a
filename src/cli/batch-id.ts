import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename, extname } from 'node:path';

/**
 * The default batch id: the manifest's name plus a hash of its content, so enqueueing the same
 * manifest twice is idempotent (nothing is called twice). Pass `--batch` to re-screen it again.
 */
export async function defaultBatchId(manifestPath: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(manifestPath)) hash.update(chunk as Buffer);
  const stem = basename(manifestPath, extname(manifestPath)).replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 60) || 'batch';
  return `${stem}-${hash.digest('hex').slice(0, 12)}`;
}
