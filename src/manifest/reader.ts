import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import type { CheckName, CheckRegistry } from '../checks/registry.js';
import { readCsv } from './csv.js';
import { ManifestUnreadableError } from './errors.js';
import { readFolder, type FolderSkip } from './folder.js';
import { formatFromPath, sniffFormat, type ManifestFormat } from './format.js';
import { readJsonl } from './jsonl.js';
import type { RawLine } from './raw-line.js';

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
}

/** A manifest is a file (JSONL or CSV) or a folder of media (./folder.ts). */
export type ManifestKind = 'file' | 'folder';

/**
 * Checks that the manifest is a readable file or folder, and says which.
 * @throws ManifestUnreadableError saying why (missing, no permission, …).
 */
export async function assertManifestReadable(path: string): Promise<ManifestKind> {
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
  if ((await assertManifestReadable(path)) === 'folder') {
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
