/**
 * Content digests of media, for `--dedupe` and the dry run's distinct-media count: the same bytes
 * under two names are one media. Local files are hashed once per path; a remote ref cannot be read
 * without fetching it, so its URL stands for it.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { resolveRef } from './refs.js';

/** sha256 (hex) of bytes. */
export function sha256Hex(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Hashes local media files, each path once (bounded: past `maxPaths` nothing more is cached). */
export class MediaDigester {
  readonly #byPath = new Map<string, Promise<string | null>>();
  constructor(private readonly maxPaths = 1_000_000) {}

  /** The digest of one reference (`sha256:<hex>`, or `url:<ref>` for http(s)); null when unreadable. */
  async ofRef(ref: string, baseDir: string): Promise<string | null> {
    let source;
    try {
      source = resolveRef(ref, baseDir, true);
    } catch {
      return null;
    }
    // Not read without fetching: the ref stands for the bytes (an s3:// ref names one object).
    if (source.kind !== 'file') return `url:${ref}`;
    const cached = this.#byPath.get(source.path);
    if (cached) return cached;
    const digest = hashFile(source.path).then(
      ({ sha256 }) => `sha256:${sha256}`,
      () => null,
    );
    if (this.#byPath.size < this.maxPaths) this.#byPath.set(source.path, digest);
    return digest;
  }

  /** The digest of a line's media (one ref, or the frames in order). */
  async ofRefs(refs: readonly string[], baseDir: string): Promise<string | null> {
    const parts = await Promise.all(refs.map((r) => this.ofRef(r, baseDir)));
    if (parts.some((p) => p === null)) return null;
    return parts.length === 1 ? (parts[0] as string) : `frames:${sha256Hex(parts.join('\n'))}`;
  }
}

/** sha256 (hex) and size of a file's bytes, streamed (flat memory for any size). @throws the read error. */
export async function hashFile(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}
