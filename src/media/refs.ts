/**
 * Media references: what a manifest's `ref` / `frames` entry names (a local path, a `file://` URL or
 * an `http(s)://` URL), resolved once and made fit for messages. Shared by the loader and the dry-run
 * probe (probe.ts).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, MediaUnavailableError } from '../errors/errors.js';
import { isS3Problem, isS3Ref, parseS3Ref } from '../config/s3.js';

/**
 * A reference fit for messages and logs: an http(s) or file URL without query string, fragment and
 * user-info (they may hold signed tokens or passwords); anything else unchanged.
 */
export function displayRef(ref: string): string {
  // An s3:// ref holds no secret (credentials never travel in it) and its key is not URL-encoded.
  if (!SCHEME.test(ref) || isS3Ref(ref)) return ref;
  try {
    const url = new URL(ref);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    // Not parseable: cut at the first '?' or '#' all the same.
    return ref.replace(/[?#].*$/s, '');
  }
}

/** A URL-looking reference: a scheme of two or more characters (so `C:\x` is not one). */
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]+:/;

/** A resolved media reference: a local file or an http(s) URL. */
export type Source =
  | { readonly kind: 'file'; readonly path: string; readonly display: string; readonly filename: string | undefined }
  | {
      readonly kind: 'http';
      readonly url: URL;
      readonly display: string;
      readonly filename: string | undefined;
      /** Removes the secret parts of the URL from foreign text (error messages of the HTTP stack). */
      readonly scrub: (text: string) => string;
    }
  | { readonly kind: 's3'; readonly bucket: string; readonly key: string; readonly display: string; readonly filename: string | undefined };

/**
 * Resolves a media reference (see {@link createMediaLoader}); shared with the dry-run probe (probe.ts).
 * @throws MediaUnavailableError `MEDIA_UNREADABLE` for an empty, malformed or refused reference.
 */
export function resolveRef(ref: string, baseDir: string, allowLocal: boolean): Source {
  if (ref.trim() === '') throw new MediaUnavailableError(ErrorCodes.MEDIA_UNREADABLE, 'the media reference is empty');
  const display = displayRef(ref);
  if (isS3Ref(ref)) {
    const parsed = parseS3Ref(ref);
    if (isS3Problem(parsed)) throw new MediaUnavailableError(ErrorCodes.MEDIA_UNREADABLE, `${display}: ${parsed.problem}`);
    return { kind: 's3', bucket: parsed.bucket, key: parsed.key, display, filename: cleanFilename(parsed.key.slice(parsed.key.lastIndexOf('/') + 1)) };
  }
  if (!SCHEME.test(ref)) {
    if (!allowLocal) throw refusedLocal(display);
    const resolved = path.resolve(baseDir, ref);
    return { kind: 'file', path: resolved, display: describePath(ref, resolved), filename: cleanFilename(path.basename(resolved)) };
  }
  let url: URL;
  try {
    url = new URL(ref);
  } catch (cause) {
    throw new MediaUnavailableError(ErrorCodes.MEDIA_UNREADABLE, `${display}: not a valid URL`, { cause });
  }
  switch (url.protocol) {
    case 'http:':
    case 'https:': {
      const secrets = [ref, url.href, url.search, url.hash, url.username, url.password].filter((s) => s.length > 1);
      const scrub = (text: string) => secrets.reduce((out, secret) => out.split(secret).join('…'), text);
      return { kind: 'http', url, display, filename: cleanFilename(lastSegment(url.pathname)), scrub };
    }
    case 'file:': {
      if (!allowLocal) throw refusedLocal(display);
      let resolved: string;
      try {
        resolved = fileURLToPath(url);
      } catch (cause) {
        throw new MediaUnavailableError(ErrorCodes.MEDIA_UNREADABLE, `${display}: not a local file URL`, { cause });
      }
      return { kind: 'file', path: resolved, display, filename: cleanFilename(path.basename(resolved)) };
    }
    default:
      throw new MediaUnavailableError(
        ErrorCodes.MEDIA_UNREADABLE,
        `${display}: unsupported reference scheme ${url.protocol} (expected a path, file://, http://, https:// or s3://)`,
      );
  }
}

function refusedLocal(display: string): MediaUnavailableError {
  return new MediaUnavailableError(ErrorCodes.MEDIA_UNREADABLE, `${display}: local files are not allowed here (http(s) URLs only)`);
}

/** `media/a.jpg (/data/batch/media/a.jpg)` for a relative path, the path alone when it was absolute. */
function describePath(ref: string, resolved: string): string {
  return ref === resolved ? ref : `${ref} (${resolved})`;
}

function lastSegment(pathname: string): string {
  const segment = pathname.slice(pathname.lastIndexOf('/') + 1);
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** A name safe in a multipart header: no control characters, quotes, slashes or backslashes. */
function cleanFilename(name: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  const cleaned = name.replace(/[\u0000-\u001f\u007f"\\/]/g, '_').trim();
  return cleaned === '' || cleaned === '.' || cleaned === '..' ? undefined : cleaned;
}


/**
 * The refs of a line as a record keeps them: each without query string, fragment and user-info
 * ({@link displayRef}: signed-URL tokens and passwords live there), and `refHadQuery` when any had one.
 */
export function recordRefs(line: { readonly ref?: string | undefined; readonly frames?: readonly string[] | undefined }): {
  ref?: string;
  frames?: readonly string[];
  refHadQuery?: true;
} {
  let had = false;
  const strip = (ref: string) => {
    const shown = displayRef(ref);
    if (shown !== ref) had = true;
    return shown;
  };
  const out = {
    ...(line.ref !== undefined ? { ref: strip(line.ref) } : {}),
    ...(line.frames !== undefined ? { frames: line.frames.map(strip) } : {}),
  };
  return had ? { ...out, refHadQuery: true } : out;
}
