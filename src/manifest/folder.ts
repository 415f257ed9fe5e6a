/**
 * A folder as a manifest: every media file under it becomes one line, found by walking the folder
 * (recursively, one directory listing at a time) in a stable order and telling media by its bytes.
 */
import type { Dirent, Stats } from 'node:fs';
import { opendir, readlink, realpath, stat } from 'node:fs/promises';
import { join, posix, resolve, sep } from 'node:path';
import type { CheckName, CheckRegistry } from '../checks/registry.js';
import { acceptedMime, detectFileMime, kindOfMime } from '../media/sniff.js';
import type { MediaBlob } from '../media/types.js';
import { clip, type RawLine } from './raw-line.js';

/** Options of {@link walkFolder} and {@link readFolder}. */
export interface FolderOptions {
  /** The checks: what each takes, and the default one per media kind. */
  readonly checks: CheckRegistry;
  /**
   * `--check`: the check of every line. Files whose type it does not take are skipped (`not-for-check`):
   * a video check takes mp4 files, the others JPEG/PNG files (a frames check as a one-frame list).
   * Default: by type, the first registered photo check for JPEG/PNG (`ooto-deepfake`), the first
   * video check for mp4 (`glair-video`).
   */
  readonly check?: CheckName;
  /** Told of every entry that makes no line (for the counts of the enqueue summary). */
  readonly onSkip?: (skip: FolderSkip) => void;
}

/**
 * Why an entry makes no line: `not-media` (not JPEG/PNG/mp4 by its bytes, empty, or not a regular
 * file), `not-for-check` (media that `--check` does not take), `folder-walked` (a link to a folder
 * already walked, e.g. a parent: walking it again would loop or repeat lines).
 */
export type FolderSkipReason = 'not-media' | 'not-for-check' | 'folder-walked';

export interface FolderSkip {
  /** Path relative to the folder, `/`-separated. */
  readonly path: string;
  readonly reason: FolderSkipReason;
}

/** Counts of {@link FolderSkip}s by reason, as the enqueue summary reports them. */
export type FolderSkipCounts = Readonly<Record<FolderSkipReason, number>>;

/** An entry of the walk that makes a line. */
export type FolderEntry =
  | {
      readonly kind: 'media';
      /** Path relative to the folder, `/`-separated (through links, as found). */
      readonly path: string;
      readonly mime: MediaBlob['mime'];
      readonly check: CheckName;
      /** Bytes and modification time of the file (of a link's target), for the batch id. */
      readonly size: number;
      readonly mtimeMs: number;
    }
  | {
      /** A link that leaves the folder, a broken link, or an entry that cannot be read: a `failed` line. */
      readonly kind: 'invalid';
      readonly path: string;
      readonly reason: string;
    };

/** The check a media type gets without `--check`: the first registered check of its kind; `undefined` when none. */
export function defaultCheckFor(checks: CheckRegistry, mime: MediaBlob['mime']): CheckName | undefined {
  const kind = kindOfMime(mime) === 'video' ? 'video' : 'photo';
  return checks.modules.find((m) => m.input === kind)?.name;
}

/** Whether a check takes a file of this type (photo and frames checks take JPEG/PNG, video checks mp4). */
export function checkTakes(checks: CheckRegistry, check: CheckName, mime: MediaBlob['mime']): boolean {
  const input = checks.get(check).input;
  return kindOfMime(mime) === 'video' ? input === 'video' : input !== 'video';
}

/**
 * Walks a folder depth-first, each directory's entries sorted by name in byte order (UTF-8), so the
 * same tree always gives the same order; holds one sorted listing per open directory level, never the
 * whole tree.
 *
 * - Regular files are sniffed from their first bytes (sniff.ts, never the extension): JPEG, PNG and
 *   mp4 are media; everything else is skipped (`not-media`).
 * - Symbolic links are resolved: one whose target is outside the folder is refused (an `invalid`
 *   entry that names the link and its target); a broken one too; one inside is followed. A folder is
 *   walked at most once, so a link to a parent (a loop) or to a folder already walked is skipped.
 * - A sub-folder or file that cannot be read is an `invalid` entry; the walk goes on.
 *
 * @throws the filesystem error when the folder itself cannot be read.
 */
export async function* walkFolder(folder: string, options: FolderOptions): AsyncGenerator<FolderEntry> {
  const root = resolve(folder);
  const rootReal = await realpath(root);
  const walk: Walk = { rootReal, visited: new Set([rootReal]), options };
  yield* walkDirectory(walk, root, rootReal, '');
}

interface Walk {
  readonly rootReal: string;
  /** Real paths of the folders walked so far. */
  readonly visited: Set<string>;
  readonly options: FolderOptions;
}

async function* walkDirectory(walk: Walk, dir: string, dirReal: string, rel: string): AsyncGenerator<FolderEntry> {
  let entries: Dirent[];
  try {
    entries = await listSorted(dir);
  } catch (error) {
    if (rel === '') throw error;
    yield { kind: 'invalid', path: rel, reason: `cannot read the folder ${rel} (${describe(error)})` };
    return;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
    if (entry.isSymbolicLink()) {
      yield* followLink(walk, path, childRel);
    } else if (entry.isDirectory()) {
      yield* enterDirectory(walk, path, join(dirReal, entry.name), childRel);
    } else if (entry.isFile()) {
      yield* fileEntry(walk, path, childRel, undefined);
    } else {
      skip(walk, childRel, 'not-media');
    }
  }
}

async function* enterDirectory(walk: Walk, dir: string, real: string, rel: string): AsyncGenerator<FolderEntry> {
  if (walk.visited.has(real)) {
    skip(walk, rel, 'folder-walked');
    return;
  }
  walk.visited.add(real);
  yield* walkDirectory(walk, dir, real, rel);
}

async function* followLink(walk: Walk, path: string, rel: string): AsyncGenerator<FolderEntry> {
  let target: string;
  try {
    target = await realpath(path);
  } catch (error) {
    const to = await readlink(path).catch(() => '?');
    yield { kind: 'invalid', path: rel, reason: `the link's target cannot be reached (${describe(error)}): ${rel} → ${to}` };
    return;
  }
  if (!isInside(walk.rootReal, target)) {
    yield { kind: 'invalid', path: rel, reason: `links outside the folder are refused: ${rel} → ${target}` };
    return;
  }
  let info: Stats;
  try {
    info = await stat(path);
  } catch (error) {
    yield { kind: 'invalid', path: rel, reason: `cannot read ${rel} (${describe(error)})` };
    return;
  }
  if (info.isDirectory()) yield* enterDirectory(walk, path, target, rel);
  else if (info.isFile()) yield* fileEntry(walk, path, rel, info);
  else skip(walk, rel, 'not-media');
}

async function* fileEntry(walk: Walk, path: string, rel: string, known: Stats | undefined): AsyncGenerator<FolderEntry> {
  let mime: MediaBlob['mime'] | undefined;
  let info: Stats;
  try {
    info = known ?? (await stat(path));
    mime = acceptedMime(await detectFileMime(path, info.size));
  } catch (error) {
    yield { kind: 'invalid', path: rel, reason: `cannot read ${rel} to tell its type (${describe(error)})` };
    return;
  }
  if (mime === undefined) {
    skip(walk, rel, 'not-media');
    return;
  }
  const check = walk.options.check ?? defaultCheckFor(walk.options.checks, mime);
  if (check === undefined || !checkTakes(walk.options.checks, check, mime)) {
    skip(walk, rel, 'not-for-check');
    return;
  }
  yield { kind: 'media', path: rel, mime, check, size: info.size, mtimeMs: info.mtimeMs };
}

/** One directory's entries, sorted by name in byte order. Read with `opendir`, one directory at a time. */
async function listSorted(dir: string): Promise<Dirent[]> {
  const keyed: { key: Buffer; entry: Dirent }[] = [];
  for await (const entry of await opendir(dir, { bufferSize: 256 })) keyed.push({ key: Buffer.from(entry.name), entry });
  keyed.sort((a, b) => Buffer.compare(a.key, b.key));
  return keyed.map((k) => k.entry);
}

function isInside(rootReal: string, target: string): boolean {
  if (target === rootReal) return true;
  return target.startsWith(rootReal.endsWith(sep) ? rootReal : rootReal + sep);
}

function skip(walk: Walk, path: string, reason: FolderSkipReason): void {
  walk.options.onSkip?.({ path, reason });
}

function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOENT' || code === 'ENOTDIR') return 'not found';
  if (code === 'ELOOP') return 'too many levels of links';
  return code ?? clip(error instanceof Error ? error.message : String(error), 100);
}

/** A relative path that the loader would take for a URL (`ab:c.jpg` has a scheme) gets a `./`. */
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]+:/;

/** The `ref` of a file found at `path` (relative, `/`-separated). */
export function refOf(path: string): string {
  return SCHEME.test(path) ? `./${path}` : path;
}

/** The `subject` of a file found at `path`: the path without its extension (`a/b/selfie.jpg` → `a/b/selfie`). */
export function subjectOf(path: string): string {
  return path.slice(0, path.length - posix.extname(path).length);
}

/**
 * Streams a folder as manifest lines (see {@link walkFolder}), one per media file and one per
 * invalid entry, numbered 1, 2, 3… in walk order:
 * `{ref: <path relative to the folder>, subject: <that path without its extension>, check}`,
 * or `{frames: [path], …}` under `--check glair-frames`. Invalid entries are `error` lines that keep
 * `ref` and `subject`, so their `failed` record says which file it was.
 *
 * @throws the filesystem error when the folder itself cannot be read (`readManifest` wraps it).
 */
export async function* readFolder(folder: string, options: FolderOptions): AsyncGenerator<RawLine> {
  let line = 0;
  for await (const entry of walkFolder(folder, options)) {
    line++;
    const ref = refOf(entry.path);
    const subject = subjectOf(entry.path);
    if (entry.kind === 'invalid') {
      const value = { ref, subject, ...(options.check !== undefined ? { check: options.check } : {}) };
      yield { line, value, error: entry.reason };
    } else {
      const media = options.checks.get(entry.check).input === 'frames' ? { frames: [ref] } : { ref };
      yield { line, value: { ...media, subject, check: entry.check } };
    }
  }
}
