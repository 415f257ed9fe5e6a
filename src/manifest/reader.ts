import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import type { CheckName, CheckRegistry } from '../checks/registry.js';
import { readCsv } from './csv.js';
import { ManifestUnreadableError } from './errors.js';
import { RescreenError } from '../errors/errors.js';
import { readFolder, type FolderSkip } from './folder.js';
import { formatFromPath, sniffFormat, type ManifestFormat } from './format.js';
import { readJsonl } from './jsonl.js';
import type { RawLine } from './raw-line.js';
import { isS3Problem, isS3Ref } from '../config/s3.js';
import type { S3Access } from '../media/s3.js';
import { parsePrefix, readS3Prefix } from './s3-prefix.js';

export type { RawLine } from './raw-line.js';

/** Options of {@link readManifest}. */
export interface ReadManifestOptions {
  /**
   * Overrides the format the extension implies (`.jsonl` / `.ndjson` / `.json` → JSONL, `.csv` → CSV).
   * With neither, the first character decides: `{` → JSONL, else CSV. Ignored for a folder.
   */
  readonly format?: ManifestFormat;
  /** The check registry; needed for a folder manifest (what each check takes, the default checks). */
  readonly checks?: CheckRegistry;
  /** A folder manifest only: `--check`, the check of every line and of the files taken (see ./folder.ts). */
  readonly check?: CheckName;
  /** A folder manifest only: told of every entry that makes no line. */
  readonly onSkip?: (skip: FolderSkip) => void;
  /** A prefix manifest only (`s3://bucket/prefix/`): how the bucket is listed. */
  readonly s3?: S3Access;
  /** A prefix manifest only: resume the listing after this line and key (the producer's cursor). */
  readonly after?: { readonly line: number; readonly key: string };
}

/** A manifest is a file (JSONL or CSV), a folder of media (./folder.ts) or a bucket prefix (./s3-prefix.ts). */
export type ManifestKind = 'file' | 'folder' | 's3';

/**
 * Checks that the manifest is a readable file or folder, or a well-formed `s3://bucket/prefix/`
 * (listed on first read), and says which.
 * @throws ManifestUnreadableError saying why (missing, no permission, not a prefix…).
 */
export async function assertManifestReadable(path: string): Promise<ManifestKind> {
  if (isS3Ref(path)) {
    const prefix = parsePrefix(path);
    if (isS3Problem(prefix)) throw new ManifestUnreadableError(path, `manifest ${path} ${prefix.problem}`);
    return 's3';
  }
  try {
    const info = await stat(path);
    if (info.isDirectory()) {
      await access(path, constants.R_OK | constants.X_OK);
      return 'folder';
    }
    await access(path, constants.R_OK);
    return 'file';
  } catch (error) {
    throw toUnreadable(path, error);
  }
}

/**
 * Streams a manifest of any size with flat memory, one {@link RawLine} per record, in file order.
 * JSONL: blank lines are skipped; a line that is not a JSON object is an `error` line. CSV: see
 * ./csv.ts. Malformed records never stop the stream (except where CSV quoting cannot resume).
 * A folder: one line per media file, in a stable walk order (see ./folder.ts).
 *
 * @throws ManifestUnreadableError (on first iteration, or mid-way on an I/O error) when the file
 *   cannot be read at all.
 */
export async function* readManifest(path: string, options: ReadManifestOptions = {}): AsyncGenerator<RawLine> {
  const kind = await assertManifestReadable(path);
  if (kind === 's3') {
    if (options.checks === undefined || options.s3 === undefined) throw new TypeError('readManifest: a prefix manifest needs options.checks and options.s3');
    try {
      yield* readS3Prefix(options.s3, parsePrefix(path) as { bucket: string; key: string }, {
        checks: options.checks,
        ...(options.check !== undefined ? { check: options.check } : {}),
        ...(options.onSkip !== undefined ? { onSkip: options.onSkip } : {}),
        ...(options.after !== undefined ? { after: options.after } : {}),
      });
    } catch (error) {
      throw toUnreadable(path, error);
    }
    return;
  }
  if (kind === 'folder') {
    if (options.checks === undefined) throw new TypeError('readManifest: a folder manifest needs options.checks');
    try {
      yield* readFolder(path, {
        checks: options.checks,
        ...(options.check !== undefined ? { check: options.check } : {}),
        ...(options.onSkip !== undefined ? { onSkip: options.onSkip } : {}),
      });
    } catch (error) {
      throw toUnreadable(path, error);
    }
    return;
  }
  let format: ManifestFormat;
  try {
    format = options.format ?? formatFromPath(path) ?? (await sniffFormat(path));
  } catch (error) {
    throw toUnreadable(path, error);
  }
  try {
    yield* format === 'csv' ? readCsv(path) : readJsonl(path);
  } catch (error) {
    throw toUnreadable(path, error);
  }
}

/** Turns a filesystem error into a {@link ManifestUnreadableError} with a plain-words reason. */
export function toUnreadable(path: string, error: unknown): ManifestUnreadableError {
  if (error instanceof ManifestUnreadableError) return error;
  // An object store's refusal (a prefix manifest) says what happened already.
  if (error instanceof RescreenError) return new ManifestUnreadableError(path, `cannot read manifest ${path}: ${error.message}`, { cause: error });
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  const detail = error instanceof Error ? error.message : String(error);
  switch (code) {
    case 'ENOENT':
      return new ManifestUnreadableError(path, `manifest ${path} does not exist`, { cause: error });
    case 'EISDIR':
      return new ManifestUnreadableError(path, `manifest ${path} is a folder, not a file`, { cause: error });
    case 'EACCES':
    case 'EPERM':
      return new ManifestUnreadableError(path, `no permission to read manifest ${path}`, { cause: error });
    case 'ENOTDIR':
      return new ManifestUnreadableError(path, `manifest ${path} does not exist (a parent is not a folder)`, { cause: error });
    default:
      return new ManifestUnreadableError(path, `cannot read manifest ${path}: ${detail}`, { cause: error });
  }
}
