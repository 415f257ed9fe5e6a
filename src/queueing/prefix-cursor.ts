/**
 * The fingerprint of a manifest as the producer's cursor keeps it (./producer-window.ts): a file's
 * sha256, or for a bucket prefix `prefix:` and the sha256 of its listing (src/manifest/s3-prefix.ts
 * prefixDigest), so an unfinished pass resumes only over the same objects (MANIFEST_CHANGED otherwise).
 */
import type { Queue } from 'bullmq';
import type { CheckName, CheckRegistry } from '../checks/registry.js';
import type { S3Access } from '../media/s3.js';
import { parsePrefix, prefixDigest } from '../manifest/s3-prefix.js';
import { isS3Problem } from '../config/s3.js';
import { ManifestUnreadableError } from '../manifest/errors.js';
import { producerCursorKey } from '../redis/keys.js';
import { toUnreadable, type ManifestKind } from '../manifest/reader.js';
import { fileFingerprint, PREFIX_FINGERPRINT, ProducerCursor, type CursorRedis } from './producer-window.js';

/** `prefix:<sha256 of the listing>` of an `s3://bucket/prefix/` manifest (one full listing, no download). */
export async function prefixFingerprint(ref: string, s3: S3Access | undefined, checks: CheckRegistry, check: CheckName | undefined): Promise<string> {
  const location = parsePrefix(ref);
  if (isS3Problem(location)) throw new ManifestUnreadableError(ref, `manifest ${ref} ${location.problem}`);
  if (s3 === undefined) throw new TypeError('a prefix manifest needs the s3 access (EnqueueOptions.s3)');
  try {
    return PREFIX_FINGERPRINT + (await prefixDigest(s3, location, { checks, ...(check !== undefined ? { check } : {}) }));
  } catch (error) {
    throw toUnreadable(ref, error);
  }
}

/** The cursor of `batch`'s producer, fingerprinting the manifest unless the caller did. */
export async function openCursor(
  queue: Queue,
  batch: string,
  manifest: { kind: ManifestKind; path: string; sha256: string | undefined; s3: S3Access | undefined; checks: CheckRegistry; check: CheckName | undefined },
): Promise<ProducerCursor> {
  const client = (await queue.client) as unknown as CursorRedis;
  const key = producerCursorKey(queue.opts.prefix ?? 'bull', batch);
  const fingerprint =
    manifest.sha256 ??
    (manifest.kind === 's3' ? await prefixFingerprint(manifest.path, manifest.s3, manifest.checks, manifest.check) : await fileFingerprint(manifest.path));
  return new ProducerCursor(client, key, fingerprint);
}
