/**
 * A bucket prefix as a manifest (`rescreen enqueue s3://bucket/onboarding/2024/`): every object under
 * it becomes one line, as a local folder's files do (./folder.ts), listed one ListObjectsV2 page at a
 * time in key order (UTF-8 binary, the order S3 lists in), so memory stays flat whatever the prefix
 * holds and a listing can resume after a key (the producer's cursor).
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { CheckName, CheckRegistry } from '../checks/registry.js';
import { isS3Problem, isS3Ref, parseS3Ref, type S3Location } from '../config/s3.js';
import type { S3Access } from '../media/s3.js';
import type { MediaBlob } from '../media/types.js';
import { checkTakes, defaultCheckFor, subjectOf, type FolderSkip } from './folder.js';
import type { RawLine } from './raw-line.js';

/** Options of {@link listPrefix} and {@link readS3Prefix}. */
export interface S3PrefixOptions {
  readonly checks: CheckRegistry;
  /** `--check`: the check of every line; objects of a type it does not take are skipped (`not-for-check`). */
  readonly check?: CheckName;
  /** Told of every object that makes no line (`not-media`: not .jpg/.jpeg/.png/.mp4, or empty). */
  readonly onSkip?: (skip: FolderSkip) => void;
  /** Resume: the listing goes on after this key, its first line numbered `line + 1`. */
  readonly after?: { readonly line: number; readonly key: string };
  /** Keys per ListObjectsV2 page. Default 1000 (the most S3 gives). */
  readonly pageSize?: number;
}

/** A line of a prefix manifest, with the object key it came from (the producer's cursor keeps it). */
export type PrefixLine = RawLine & { readonly key: string };

/** One object of the listing that makes a line. */
type PrefixEntry =
  | { readonly kind: 'media'; readonly key: string; readonly rel: string; readonly check: CheckName; readonly size: number; readonly etag: string | undefined }
  | { readonly kind: 'invalid'; readonly key: string; readonly rel: string; readonly reason: string };

/**
 * The prefix an `s3://` manifest names: `s3://bucket/` (the whole bucket) or `s3://bucket/some/prefix/`.
 * @returns the location, or why it is not a prefix.
 */
export function parsePrefix(ref: string): S3Location | { readonly problem: string } {
  const parsed = parseS3Ref(ref, true);
  if (isS3Problem(parsed)) return parsed;
  if (parsed.key !== '' && !parsed.key.endsWith('/')) {
    return { problem: `names an object, not a prefix: end it with / (s3://${parsed.bucket}/${parsed.key}/) to enqueue every object under it` };
  }
  return parsed;
}

export { isS3Ref };

/** The type an object's name says it is (its bytes are sniffed again when it is fetched). */
const BY_EXTENSION: Readonly<Record<string, MediaBlob['mime']>> = { '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.png': 'image/png', '.mp4': 'video/mp4' };

/**
 * Lists the objects under a prefix that make lines, in key order, one page in memory at a time.
 * The folder rule, by name instead of bytes (nothing is downloaded to list): .jpg/.jpeg/.png/.mp4
 * objects are media; others, and empty objects, are skipped (`not-media`); "folder" markers (keys
 * ending in `/`) are not objects. A key that an `s3://` ref cannot name (spaces, control
 * characters) is an `invalid` entry, so its line says which object it was.
 * @throws what {@link S3Access.listPage} throws (bucket refused, no such bucket, access denied…).
 */
export async function* listPrefix(access: S3Access, location: S3Location, options: S3PrefixOptions): AsyncGenerator<PrefixEntry> {
  let from: { startAfter?: string; continuation?: string } = options.after ? { startAfter: options.after.key } : {};
  for (;;) {
    const page = await access.listPage(location.bucket, location.key, from, options.pageSize);
    for (const object of page.objects) {
      if (object.key.endsWith('/')) continue;
      const rel = object.key.slice(location.key.length);
      const mime = BY_EXTENSION[posix.extname(object.key).toLowerCase()];
      if (mime === undefined || object.size === 0) {
        options.onSkip?.({ path: rel, reason: 'not-media' });
        continue;
      }
      const check = options.check ?? defaultCheckFor(options.checks, mime);
      if (check === undefined || !checkTakes(options.checks, check, mime)) {
        options.onSkip?.({ path: rel, reason: 'not-for-check' });
        continue;
      }
      const ref = `s3://${location.bucket}/${object.key}`;
      const parsed = parseS3Ref(ref);
      if (isS3Problem(parsed)) yield { kind: 'invalid', key: object.key, rel, reason: `${JSON.stringify(ref)} ${parsed.problem}` };
      else yield { kind: 'media', key: object.key, rel, check, size: object.size ?? 0, etag: object.etag };
    }
    if (page.next === undefined) return;
    from = { continuation: page.next };
  }
}

/**
 * Streams a prefix as manifest lines numbered 1, 2, 3… in key order (from `after.line + 1` when
 * resuming): `{ref: "s3://bucket/key", subject: <key under the prefix without its extension>, check}`,
 * or `{frames: [ref], …}` under a frames check. Invalid keys are `error` lines keeping ref and subject.
 */
export async function* readS3Prefix(access: S3Access, location: S3Location, options: S3PrefixOptions): AsyncGenerator<PrefixLine> {
  let line = options.after?.line ?? 0;
  for await (const entry of listPrefix(access, location, options)) {
    line++;
    const ref = `s3://${location.bucket}/${entry.key}`;
    const subject = subjectOf(entry.rel);
    if (entry.kind === 'invalid') {
      yield { line, key: entry.key, value: { ref, subject, ...(options.check !== undefined ? { check: options.check } : {}) }, error: entry.reason };
    } else {
      const media = options.checks.get(entry.check).input === 'frames' ? { frames: [ref] } : { ref };
      yield { line, key: entry.key, value: { ...media, subject, check: entry.check } };
    }
  }
}

/**
 * What a prefix "is", as a file's sha256 is what a file is: a sha256 of its listing (each line's key,
 * size, ETag and check, in order). The same objects give the same digest (the default batch id, so
 * enqueueing the prefix again adds nothing); adding, removing or overwriting an object under it gives
 * another. Costs one full listing (one request per 1,000 keys), no download.
 */
export async function prefixDigest(access: S3Access, location: S3Location, options: S3PrefixOptions): Promise<string> {
  const hash = createHash('sha256');
  const { checks, check, pageSize } = options;
  const listing = { checks, ...(check !== undefined ? { check } : {}), ...(pageSize !== undefined ? { pageSize } : {}) };
  for await (const entry of listPrefix(access, location, listing)) {
    const fields = entry.kind === 'media' ? ['media', entry.key, String(entry.size), entry.etag ?? '', entry.check] : ['invalid', entry.key, entry.reason];
    hash.update(`${fields.join('\0')}\n`);
  }
  return hash.digest('hex');
}
