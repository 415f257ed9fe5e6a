import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { basename, extname, resolve } from 'node:path';
import type { CheckName, CheckRegistry } from '../checks/registry.js';
import { walkFolder } from '../manifest/folder.js';
import { hashFile } from '../media/digest.js';
import { BUILT_INS } from '../runtime/built-ins.js';
import { isS3Ref } from '../config/s3.js';
import type { S3Access } from '../media/s3.js';
import { prefixFingerprint } from '../queueing/prefix-cursor.js';

/** Options of {@link defaultBatchId}. */
export interface DefaultBatchIdOptions {
  /** `--check`: for a folder it decides which files are lines, so it is part of the listing hashed. */
  readonly check?: CheckName;
  /** The checks (a folder's default check per media kind). Default the built-in ones. */
  readonly checks?: CheckRegistry;
  /** How a prefix manifest (`s3://bucket/prefix/`) is listed; needed for one. */
  readonly s3?: S3Access;
}

/**
 * The default batch id: the manifest's name plus a hash of its content, so enqueueing the same
 * manifest twice is idempotent (nothing is called twice). Pass `--batch` to re-screen it again.
 *
 * For a folder: its name plus a hash of the sorted listing of the lines it makes (each media file's
 * relative path, size, modification time and check; each refused entry's path and reason), so
 * the same files give the same id, and adding, changing or touching a media file gives a new one.
 * Files that are not media do not count (a `.DS_Store` that changes does not start a new batch).
 */
export async function defaultBatchId(manifestPath: string, options: DefaultBatchIdOptions = {}): Promise<string> {
  return (await defaultBatchIdOf(manifestPath, options)).batch;
}

/**
 * {@link defaultBatchId}, with a manifest file's sha256 (`undefined` for a folder): the producer's
 * cursor fingerprints the file by it, so the file is read once to be hashed, not twice.
 */
export async function defaultBatchIdOf(manifestPath: string, options: DefaultBatchIdOptions = {}): Promise<{ batch: string; sha256: string | undefined }> {
  if (isS3Ref(manifestPath)) return prefixBatchId(manifestPath, options);
  const hash = createHash('sha256');
  let stem: string;
  const isFolder = (await stat(manifestPath)).isDirectory();
  if (isFolder) {
    stem = basename(resolve(manifestPath));
    for await (const entry of walkFolder(manifestPath, { checks: options.checks ?? BUILT_INS.checks, ...(options.check !== undefined ? { check: options.check } : {}) })) {
      const fields =
        entry.kind === 'media'
          ? ['media', entry.path, String(entry.size), String(entry.mtimeMs), entry.check]
          : ['invalid', entry.path, entry.reason];
      hash.update(`${fields.join('\0')}\n`);
    }
  } else {
    stem = basename(manifestPath, extname(manifestPath));
  }
  const sha256 = isFolder ? undefined : (await hashFile(manifestPath)).sha256;
  const digest = sha256 ?? hash.digest('hex');
  const safe = stem.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 60) || 'batch';
  return { batch: `${safe}-${digest.slice(0, 12)}`, sha256 };
}

/**
 * A prefix's default batch id: `<bucket>-<prefix>-` and a hash of its listing (each object's key,
 * size, ETag and check), as a folder's; `sha256` is the producer's cursor fingerprint (one listing).
 */
async function prefixBatchId(ref: string, options: DefaultBatchIdOptions): Promise<{ batch: string; sha256: string }> {
  const fingerprint = await prefixFingerprint(ref, options.s3, options.checks ?? BUILT_INS.checks, options.check);
  const stem = ref.slice('s3://'.length).replace(/\/+$/, '').replace(/[^A-Za-z0-9._-]+/g, '-').slice(-60).replace(/^-+/, '') || 'prefix';
  const digest = fingerprint.slice(fingerprint.indexOf(':') + 1);
  return { batch: `${stem}-${digest.slice(0, 12)}`, sha256: fingerprint };
}
