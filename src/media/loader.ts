/**
 * Resolves media references and loads their bytes, bounded: a local file is stat'ed before it is
 * read, a download is refused on its Content-Length and aborted as soon as it passes the cap, so a
 * wrong or hostile reference never costs more memory than the cap. Then the bytes are sniffed for
 * the check's input kind (see sniff.ts).
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, errors as undiciErrors, request, type Dispatcher } from 'undici';
import { GLAIR_MAX_BYTES } from '../checks/registry.js';
import { ErrorCodes, MediaFetchError, MediaRejectedError, MediaUnavailableError, RescreenError } from '../errors/errors.js';
import { guardedLookup, HostRefusedError, PUBLIC_ONLY, refuseLiteral, type MediaHostPolicy } from './host-policy.js';
import { formatBytes, sniffPhoto, sniffVideo } from './sniff.js';
import type { MediaBlob, MediaLoader } from './types.js';

/** Default of {@link MediaLoaderOptions.photoMaxBytes}: 15 MiB (the config's `RESCREEN_PHOTO_MAX_BYTES` default). */
export const DEFAULT_PHOTO_MAX_BYTES = 15 * 1024 * 1024;
/** Default of {@link MediaLoaderOptions.fetchTimeoutMs}: 30 s. */
export const DEFAULT_FETCH_TIMEOUT_MS = 30_000;
/** Redirects followed per download (signed-URL CDNs and bucket aliases redirect), each one checked against the host policy. */
export const MAX_REDIRECTIONS = 3;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Options of {@link createMediaLoader}. */
export interface MediaLoaderOptions {
  /** Largest photo accepted (local file or download), bytes. Default 15 MiB ({@link DEFAULT_PHOTO_MAX_BYTES}); pass `config.photoMaxBytes`. */
  readonly photoMaxBytes?: number;
  /**
   * Time limit of one http(s) download, ms, from the request until the last byte (also used as undici's
   * headers and body inactivity timeouts). Default 30000 ({@link DEFAULT_FETCH_TIMEOUT_MS}).
   */
  readonly fetchTimeoutMs?: number;
  /**
   * undici dispatcher for http(s) downloads (tests pass a MockAgent or their own Agent). Redirects (at
   * most 5) are followed on top of it. Default: one Agent with keep-alive, shared by every loader.
   */
  readonly dispatcher?: Dispatcher;
  /**
   * Which hosts downloads may reach (config `mediaHosts`). Default: public addresses only — loopback,
   * private, link-local and metadata addresses are refused (MEDIA_HOST_REFUSED), checked on each
   * redirect and, with the default dispatcher, on the addresses a name resolves to when connecting.
   */
  readonly hostPolicy?: MediaHostPolicy;
  /**
   * Whether local references (plain paths and `file://` URLs) are allowed. Default `true`; set `false`
   * where references come from untrusted callers. A refused reference ends `failed` (MEDIA_UNREADABLE).
   */
  readonly allowFileUrls?: boolean;
}

/**
 * Builds the {@link MediaLoader} used by the job processors.
 *
 * References: a plain path (relative → resolved against `baseDir`, the manifest's folder), a `file://`
 * URL, or an `http(s)://` URL. Caps: a photo `photoMaxBytes`; a video {@link GLAIR_MAX_BYTES}; frames
 * {@link GLAIR_MAX_BYTES} in total (later frames are not read once the total would pass it).
 *
 * Errors: MediaRejectedError (MEDIA_EMPTY, MEDIA_UNSUPPORTED_TYPE, MEDIA_TOO_LARGE → `rejected`),
 * MediaUnavailableError (MEDIA_NOT_FOUND for a missing file or HTTP 404/410, MEDIA_UNREADABLE for a
 * directory, an unreadable file, another 4xx, a refused or malformed reference → `failed`;
 * MEDIA_HOST_REFUSED for a URL, or a redirect, to a host the host policy refuses → `failed`),
 * MediaFetchError (MEDIA_FETCH: HTTP 5xx/408/429, connection error, timeout → retried). Messages never
 * contain a URL's query string, fragment or user-info (signed URLs carry tokens there). When `signal`
 * aborts, the read or download stops and the promise rejects with `signal.reason`.
 */
export function createMediaLoader(options: MediaLoaderOptions = {}): MediaLoader {
  const photoMaxBytes = positive(options.photoMaxBytes, DEFAULT_PHOTO_MAX_BYTES, 'photoMaxBytes');
  const fetchTimeoutMs = positive(options.fetchTimeoutMs, DEFAULT_FETCH_TIMEOUT_MS, 'fetchTimeoutMs');
  const allowLocal = options.allowFileUrls ?? true;
  const hostPolicy = options.hostPolicy ?? PUBLIC_ONLY;
  // Redirects are followed here, not by undici, so that every hop is checked against the policy.
  const dispatcher = options.dispatcher ?? sharedDispatcher(hostPolicy);
  const reader: Reader = { fetchTimeoutMs, dispatcher, hostPolicy };

  return {
    async loadPhoto(ref, baseDir, signal) {
      signal?.throwIfAborted();
      const source = resolveRef(ref, baseDir, allowLocal);
      const bytes = await readSource(reader, source, photoMaxBytes, signal, (size) =>
        overLimit(source.display, size, photoMaxBytes),
      );
      const mime = await sniffPhoto(bytes, { maxBytes: photoMaxBytes, label: source.display });
      return { bytes, mime, filename: source.filename ?? `media.${extensionOf(mime)}` };
    },

    async loadVideo(ref, baseDir, signal) {
      signal?.throwIfAborted();
      const source = resolveRef(ref, baseDir, allowLocal);
      const bytes = await readSource(reader, source, GLAIR_MAX_BYTES, signal, (size) =>
        overLimit(source.display, size, GLAIR_MAX_BYTES),
      );
      const mime = await sniffVideo(bytes, { maxBytes: GLAIR_MAX_BYTES, label: source.display });
      return { bytes, mime, filename: source.filename ?? `media.${extensionOf(mime)}` };
    },

    async loadFrames(refs, baseDir, signal) {
      signal?.throwIfAborted();
      if (refs.length === 0) throw new MediaRejectedError(ErrorCodes.MEDIA_EMPTY, 'frames: the list of frames is empty');
      // Resolve every reference first: a malformed or refused one fails the line before any byte is read.
      const sources = refs.map((ref) => resolveRef(ref, baseDir, allowLocal));
      const blobs: MediaBlob[] = [];
      let total = 0;
      for (const [index, source] of sources.entries()) {
        const n = index + 1;
        const label = `frame ${n} of ${sources.length} (${source.display})`;
        const before = total;
        // The cap of this frame is what is left of the total: nothing past the total is ever read.
        const bytes = await readSource(reader, source, GLAIR_MAX_BYTES - before, signal, (size) =>
          framesOverLimit(label, before, size),
        );
        total += bytes.byteLength;
        const mime = await sniffPhoto(bytes, { label });
        blobs.push({ bytes, mime, filename: source.filename ?? `frame-${n}.${extensionOf(mime)}` });
      }
      return blobs;
    },
  };
}

/**
 * A reference fit for messages and logs: an http(s) or file URL without query string, fragment and
 * user-info (they may hold signed tokens or passwords); anything else unchanged.
 */
export function displayRef(ref: string): string {
  if (!SCHEME.test(ref)) return ref;
  try {
    const url = new URL(ref);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    // Not parseable: cut at the first '?' or '#' all the same.
    return ref.replace(/[?#].*$/s, '');
  }
}

// ---------------------------------------------------------------- references

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
    };

/**
 * Resolves a media reference (see {@link createMediaLoader}); shared with the dry-run probe (probe.ts).
 * @throws MediaUnavailableError `MEDIA_UNREADABLE` for an empty, malformed or refused reference.
 */
export function resolveRef(ref: string, baseDir: string, allowLocal: boolean): Source {
  if (ref.trim() === '') throw new MediaUnavailableError(ErrorCodes.MEDIA_UNREADABLE, 'the media reference is empty');
  const display = displayRef(ref);
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
        `${display}: unsupported reference scheme ${url.protocol} (expected a path, file://, http:// or https://)`,
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

function extensionOf(mime: MediaBlob['mime']): string {
  switch (mime) {
    case 'image/jpeg':
      return 'jpg';
    case 'image/png':
      return 'png';
    case 'video/mp4':
      return 'mp4';
  }
}

// ---------------------------------------------------------------- reading

interface Reader {
  readonly fetchTimeoutMs: number;
  readonly dispatcher: Dispatcher;
  readonly hostPolicy: MediaHostPolicy;
}

/** Builds the error for a source over its cap; `size` is the exact size when known (stat, Content-Length). */
export type TooLarge = (size: number | undefined) => MediaRejectedError;

export function overLimit(display: string, size: number | undefined, cap: number): MediaRejectedError {
  const message =
    size === undefined
      ? `${display}: larger than the limit of ${formatBytes(cap)} (stopped reading there)`
      : `${display}: ${formatBytes(size)} is over the limit of ${formatBytes(cap)}`;
  return new MediaRejectedError(ErrorCodes.MEDIA_TOO_LARGE, message);
}

/** The error of a frame that takes the frames' total (`before` bytes so far) over {@link GLAIR_MAX_BYTES}. */
export function framesOverLimit(label: string, before: number, size: number | undefined): MediaRejectedError {
  return new MediaRejectedError(
    ErrorCodes.MEDIA_TOO_LARGE,
    size === undefined
      ? `frames: ${label} takes the total over the limit of ${formatBytes(GLAIR_MAX_BYTES)} (stopped reading there)`
      : `frames: ${label} brings the total to ${formatBytes(before + size)}, over the limit of ` +
        `${formatBytes(GLAIR_MAX_BYTES)} in total`,
  );
}

/** Reads at most `cap` bytes of a source; throws `tooLarge(…)` as soon as it is known to hold more. */
function readSource(reader: Reader, source: Source, cap: number, signal: AbortSignal | undefined, tooLarge: TooLarge): Promise<Buffer> {
  return source.kind === 'file'
    ? readLocal(source.path, source.display, cap, signal, tooLarge)
    : fetchRemote(reader, source, cap, signal, tooLarge);
}

/**
 * The size of a local media file, before anything is read: shared by the loader and the dry-run probe.
 * @throws MediaUnavailableError (`MEDIA_NOT_FOUND`, `MEDIA_UNREADABLE`: a directory, not a regular file);
 *   `tooLarge(size)` when it holds more than `cap` bytes.
 */
export async function statLocal(file: string, display: string, cap: number, tooLarge: TooLarge): Promise<number> {
  let size: number;
  try {
    const stats = await stat(file);
    if (stats.isDirectory()) throw new MediaUnavailableError(ErrorCodes.MEDIA_UNREADABLE, `${display}: is a directory, not a file`);
    // FIFOs, devices and sockets could stream forever or block: only regular files are media.
    if (!stats.isFile()) throw new MediaUnavailableError(ErrorCodes.MEDIA_UNREADABLE, `${display}: not a regular file`);
    size = stats.size;
  } catch (err) {
    throw localError(err, display);
  }
  if (size > cap) throw tooLarge(size);
  return size;
}

async function readLocal(file: string, display: string, cap: number, signal: AbortSignal | undefined, tooLarge: TooLarge): Promise<Buffer> {
  const size = await statLocal(file, display, cap, tooLarge);
  signal?.throwIfAborted();

  // One buffer of the stat'ed size plus one byte, filled by positional reads on a file handle: the
  // usual photo costs stat, open and one read (no stream machinery, no second read to see EOF).
  let handle: FileHandle | undefined;
  try {
    handle = await open(file, 'r');
    let buffer = Buffer.allocUnsafe(size + 1);
    let total = 0;
    for (;;) {
      signal?.throwIfAborted();
      if (total === buffer.length) {
        // The file grew since stat: keep reading, at most cap + 1 bytes, enough to notice it is too large.
        const grown = Buffer.allocUnsafe(Math.min(buffer.length * 2, cap + 1));
        buffer.copy(grown, 0, 0, total);
        buffer = grown;
      }
      const { bytesRead } = await handle.read(buffer, total, buffer.length - total, total);
      total += bytesRead;
      if (total > cap) throw tooLarge(undefined);
      // End of file: nothing more, or a short read that brought exactly the stat'ed size.
      if (bytesRead === 0 || (total === size && total < buffer.length)) break;
    }
    return buffer.subarray(0, total);
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw localError(err, display);
  } finally {
    // Closed in the background: the bytes are in hand, and a read-only descriptor loses nothing if
    // closing it fails (this saves the job one trip through the thread pool).
    void handle?.close().catch(() => undefined);
  }
}

/** A filesystem error on a local media file as the loader reports it (`MEDIA_NOT_FOUND` / `MEDIA_UNREADABLE`). */
export function localError(err: unknown, display: string): Error {
  if (err instanceof RescreenError) return err;
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new MediaUnavailableError(ErrorCodes.MEDIA_NOT_FOUND, `${display}: file not found`, { cause: err });
  }
  const reason = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EISDIR' ? 'is a directory, not a file' : (code ?? 'read error');
  return new MediaUnavailableError(ErrorCodes.MEDIA_UNREADABLE, `${display}: cannot read the file (${reason})`, { cause: err });
}

/** Why the deadline controller aborted (to tell a timeout from the caller's abort). */
class FetchDeadline extends Error {
  override name = 'FetchDeadline';
}

async function fetchRemote(
  reader: Reader,
  source: Extract<Source, { kind: 'http' }>,
  cap: number,
  signal: AbortSignal | undefined,
  tooLarge: TooLarge,
): Promise<Buffer> {
  const { display, scrub } = source;
  const timeoutMs = reader.fetchTimeoutMs;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new FetchDeadline(`no complete answer within ${timeoutMs} ms`)), timeoutMs);
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    let url = source.url;
    let response: Dispatcher.ResponseData;
    for (let hop = 0; ; hop += 1) {
      const refused = refuseLiteral(reader.hostPolicy, url.hostname);
      if (refused) throw hostRefused(display, hop, refused);
      response = await request(url, {
        method: 'GET',
        dispatcher: reader.dispatcher,
        signal: controller.signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        headers: { accept: 'image/jpeg, image/png, video/mp4;q=0.9, */*;q=0.1', 'user-agent': 'rescreen' },
      });
      const location = response.headers.location;
      if (!REDIRECT_STATUSES.has(response.statusCode) || typeof location !== 'string' || location === '') break;
      discard(response.body);
      if (hop >= MAX_REDIRECTIONS) {
        throw new MediaUnavailableError(ErrorCodes.MEDIA_UNREADABLE, `${display}: more than ${MAX_REDIRECTIONS} redirects`);
      }
      try {
        url = new URL(location, url);
      } catch (cause) {
        throw new MediaUnavailableError(ErrorCodes.MEDIA_UNREADABLE, `${display}: redirected to an invalid URL`, { cause });
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new MediaUnavailableError(ErrorCodes.MEDIA_UNREADABLE, `${display}: redirected to an unsupported scheme ${url.protocol}`);
      }
    }
    const { statusCode, body } = response;
    if (statusCode < 200 || statusCode > 299) {
      discard(body);
      throw statusError(statusCode, display);
    }
    const declared = contentLength(response.headers['content-length']);
    if (declared !== undefined && declared > cap) {
      discard(body);
      throw tooLarge(declared);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      total += chunk.byteLength;
      if (total > cap) {
        // Stop the download now: destroying the body aborts the request and closes the connection.
        discard(body);
        throw tooLarge(declared);
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks, total);
  } catch (err) {
    if (err instanceof RescreenError) throw err;
    if (signal?.aborted) throw signal.reason;
    const refused = findHostRefused(err);
    if (refused) throw hostRefused(display, undefined, refused);
    if (controller.signal.reason instanceof FetchDeadline || isUndiciTimeout(err)) {
      throw new MediaFetchError(ErrorCodes.MEDIA_FETCH, `${display}: download timed out (no complete answer within ${timeoutMs} ms)`, {
        cause: err,
      });
    }
    const detail = err instanceof Error ? scrub(describeNetworkError(err)) : 'unknown error';
    throw new MediaFetchError(ErrorCodes.MEDIA_FETCH, `${display}: download failed (${detail})`, { cause: err });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/** MEDIA_HOST_REFUSED: final (`failed`), and no vendor call is made for the line. */
function hostRefused(display: string, hop: number | undefined, refused: HostRefusedError): MediaUnavailableError {
  const where = hop === undefined || hop === 0 ? '' : ` (after ${hop} ${hop === 1 ? 'redirect' : 'redirects'})`;
  return new MediaUnavailableError(
    ErrorCodes.MEDIA_HOST_REFUSED,
    `${display}: refused to download${where}: ${refused.message} (allow it with RESCREEN_MEDIA_ALLOW_HOSTS or RESCREEN_MEDIA_ALLOW_PRIVATE=true)`,
    { cause: refused },
  );
}

/** The HostRefusedError our connect-time lookup raised, wherever undici wrapped it. */
function findHostRefused(err: unknown, depth = 0): HostRefusedError | undefined {
  if (depth > 4 || typeof err !== 'object' || err === null) return undefined;
  if (err instanceof HostRefusedError) return err;
  if (err instanceof AggregateError) {
    for (const inner of err.errors) {
      const found = findHostRefused(inner, depth + 1);
      if (found) return found;
    }
  }
  return err instanceof Error ? findHostRefused(err.cause, depth + 1) : undefined;
}

/**
 * Drops a response body we will not read: destroying it aborts the request and closes the connection.
 * undici then emits a RequestAbortedError on the body, expected here, so it gets a listener.
 */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => undefined);
  body.destroy();
}

function statusError(status: number, display: string): RescreenError {
  if (status === 404 || status === 410) {
    return new MediaUnavailableError(ErrorCodes.MEDIA_NOT_FOUND, `${display}: not found (HTTP ${status})`);
  }
  // 408 and 429 are the server's "not now", 5xx its own trouble: worth another try later.
  if (status === 408 || status === 429 || status >= 500) {
    return new MediaFetchError(ErrorCodes.MEDIA_FETCH, `${display}: download failed (HTTP ${status})`);
  }
  if (status >= 400) {
    return new MediaUnavailableError(ErrorCodes.MEDIA_UNREADABLE, `${display}: refused (HTTP ${status})`);
  }
  // 1xx/3xx that undici did not resolve: a redirect loop, too many redirects, or one without Location.
  return new MediaUnavailableError(ErrorCodes.MEDIA_UNREADABLE, `${display}: unexpected HTTP ${status} (unresolved redirect?)`);
}

function contentLength(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && /^\s*\d+\s*$/.test(value) ? Number(value) : undefined;
}

function isUndiciTimeout(err: unknown): boolean {
  return (
    err instanceof undiciErrors.HeadersTimeoutError ||
    err instanceof undiciErrors.BodyTimeoutError ||
    err instanceof undiciErrors.ConnectTimeoutError
  );
}

/** `connect ECONNREFUSED 127.0.0.1:9` rather than undici's bare "fetch failed"-style wrappers. */
function describeNetworkError(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  const message = err.message.trim() === '' ? err.name : err.message;
  return code !== undefined && !message.includes(code) ? `${code}: ${message}` : message;
}

// ---------------------------------------------------------------- defaults

const shared = new Map<string, Dispatcher>();

/**
 * One keep-alive Agent per host policy for all loaders of the process, created on first use. Its
 * `connect` lookup checks every address a name resolves to against the policy.
 */
function sharedDispatcher(policy: MediaHostPolicy): Dispatcher {
  const key = JSON.stringify(policy);
  let agent = shared.get(key);
  if (agent === undefined) {
    agent = new Agent({
      keepAliveTimeout: 10_000,
      keepAliveMaxTimeout: 60_000,
      ...(policy.allowPrivate ? {} : { connect: { lookup: guardedLookup(policy) } }),
    });
    shared.set(key, agent);
  }
  return agent;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, got ${value}`);
  return value;
}
