/**
 * Resolves media references and loads their bytes, bounded: a local file is stat'ed before it is
 * read, a download is refused on its Content-Length and aborted as soon as it passes the cap, so a
 * wrong or hostile reference never costs more memory than the cap. Then the bytes are sniffed for
 * the check's input kind (see sniff.ts). References: refs.ts; local files: local.ts; downloads:
 * remote.ts; caps: limits.ts.
 */
import type { Dispatcher } from 'undici';
import { DEFAULT_BODY_MAX_BYTES, DEFAULT_FETCH_TIMEOUT_MS, DEFAULT_PHOTO_MAX_BYTES } from '../config/defaults.js';
import { ErrorCodes, MediaRejectedError } from '../errors/errors.js';
import { PUBLIC_ONLY, type MediaHostPolicy } from './host-policy.js';
import { framesOverLimit, overLimit, type TooLarge } from './limits.js';
import { readLocal } from './local.js';
import { fetchRemote, guardedDispatcher, sharedDispatcher, type RemoteReader } from './remote.js';
import { resolveRef, type Source } from './refs.js';
import { createS3Access, type S3Access } from './s3.js';
import { sniffPhoto, sniffVideo } from './sniff.js';
import type { MediaBlob, MediaLoader, ObjectVersion } from './types.js';

// Re-exported so that every name stays importable from this module.
export { framesOverLimit, overLimit, type TooLarge } from './limits.js';
export { localError, statLocal } from './local.js';
export { MAX_REDIRECTIONS } from './remote.js';
export { displayRef, resolveRef, type Source } from './refs.js';

// Defaults of {@link MediaLoaderOptions.photoMaxBytes} (15 MiB, the config's `RESCREEN_PHOTO_MAX_BYTES`
// default) and {@link MediaLoaderOptions.fetchTimeoutMs} (30 s), kept with every other default.
export { DEFAULT_FETCH_TIMEOUT_MS, DEFAULT_PHOTO_MAX_BYTES } from '../config/defaults.js';

/** Options of {@link createMediaLoader}. */
export interface MediaLoaderOptions {
  /** Largest photo accepted (local file or download), bytes. Default 15 MiB ({@link DEFAULT_PHOTO_MAX_BYTES}); pass `config.photoMaxBytes`. */
  readonly photoMaxBytes?: number;
  /** Largest video, and frames in total, bytes: the vendor's `bodyMaxBytes` (GLAIR's 6 MiB). Default {@link DEFAULT_BODY_MAX_BYTES}. */
  readonly bodyMaxBytes?: number;
  /**
   * Time limit of one http(s) download, ms, from the request until the last byte (also used as undici's
   * headers and body inactivity timeouts). Default 30000 ({@link DEFAULT_FETCH_TIMEOUT_MS}).
   */
  readonly fetchTimeoutMs?: number;
  /**
   * undici dispatcher for http(s) downloads (a proxy agent, or a test's own Agent). Redirects (at
   * most {@link MAX_REDIRECTIONS}) are followed on top of it, and the host policy holds on it too:
   * each name is resolved through the policy and the request goes to an allowed address (a DNS
   * interceptor composed onto it). Default: one Agent with keep-alive, shared by every loader.
   */
  readonly dispatcher?: Dispatcher;
  /**
   * Which hosts downloads may reach (config `mediaHosts`). Default: public addresses only — loopback,
   * private, link-local and metadata addresses are refused (MEDIA_HOST_REFUSED), checked on each
   * redirect and on the addresses a name resolves to, whatever the dispatcher.
   */
  readonly hostPolicy?: MediaHostPolicy;
  /**
   * Whether local references (plain paths and `file://` URLs) are allowed. Default `true`; set `false`
   * where references come from untrusted callers. A refused reference ends `failed` (MEDIA_UNREADABLE).
   */
  readonly allowFileUrls?: boolean;
  /**
   * How `s3://bucket/key` refs are read (src/media/s3.ts: the runtime's, from config `s3`). Default:
   * AWS itself with the default credential chain, through `hostPolicy`, created on first use.
   */
  readonly s3?: S3Access;
}

/**
 * Builds the {@link MediaLoader} used by the job processors.
 *
 * References: a plain path (relative → resolved against `baseDir`, the manifest's folder), a `file://`
 * URL, or an `http(s)://` URL. Caps: a photo `photoMaxBytes`; a video `bodyMaxBytes`; frames
 * `bodyMaxBytes` in total (later frames are not read once the total would pass it).
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
  const bodyMaxBytes = positive(options.bodyMaxBytes, DEFAULT_BODY_MAX_BYTES, 'bodyMaxBytes');
  const fetchTimeoutMs = positive(options.fetchTimeoutMs, DEFAULT_FETCH_TIMEOUT_MS, 'fetchTimeoutMs');
  const allowLocal = options.allowFileUrls ?? true;
  const hostPolicy = options.hostPolicy ?? PUBLIC_ONLY;
  // Redirects are followed here, not by undici, so that every hop is checked against the policy.
  // A caller's dispatcher gets the policy through a DNS interceptor; the shared one checks at connect.
  const dispatcher = options.dispatcher ? guardedDispatcher(options.dispatcher, hostPolicy) : sharedDispatcher(hostPolicy);
  const reader: Reader = {
    fetchTimeoutMs,
    dispatcher,
    hostPolicy,
    s3: () => (s3 ??= createS3Access({ endpoint: undefined, region: undefined, forcePathStyle: false, allowBuckets: undefined }, { hostPolicy, timeoutMs: fetchTimeoutMs })),
  };
  let s3 = options.s3;

  /** One photo or video: read within `cap`, then sniffed as that kind. */
  async function loadOne(
    ref: string,
    baseDir: string,
    signal: AbortSignal | undefined,
    cap: number,
    sniff: typeof sniffPhoto | typeof sniffVideo,
  ): Promise<MediaBlob> {
    signal?.throwIfAborted();
    const source = resolveRef(ref, baseDir, allowLocal);
    const { bytes, object } = await readSource(reader, source, cap, signal, (size) => overLimit(source.display, size, cap));
    const mime = await sniff(bytes, { maxBytes: cap, label: source.display });
    return { bytes, mime, filename: source.filename ?? `media.${extensionOf(mime)}`, ...(object ? { object } : {}) };
  }

  return {
    loadPhoto: (ref, baseDir, signal) => loadOne(ref, baseDir, signal, photoMaxBytes, sniffPhoto),
    loadVideo: (ref, baseDir, signal) => loadOne(ref, baseDir, signal, bodyMaxBytes, sniffVideo),

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
        const { bytes, object } = await readSource(reader, source, bodyMaxBytes - before, signal, (size) =>
          framesOverLimit(label, before, size, bodyMaxBytes),
        );
        total += bytes.byteLength;
        const mime = await sniffPhoto(bytes, { label });
        blobs.push({ bytes, mime, filename: source.filename ?? `frame-${n}.${extensionOf(mime)}`, ...(object ? { object } : {}) });
      }
      return blobs;
    },
  };
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

/** What reading needs: the download settings, and object storage (created on first use). */
type Reader = RemoteReader & { readonly s3: () => S3Access };

/** Reads at most `cap` bytes of a source; throws `tooLarge(…)` as soon as it is known to hold more. */
async function readSource(
  reader: Reader,
  source: Source,
  cap: number,
  signal: AbortSignal | undefined,
  tooLarge: TooLarge,
): Promise<{ bytes: Buffer; object?: ObjectVersion }> {
  switch (source.kind) {
    case 'file':
      return { bytes: await readLocal(source.path, source.display, cap, signal, tooLarge) };
    case 'http':
      return { bytes: await fetchRemote(reader, source, cap, signal, tooLarge) };
    case 's3':
      return reader.s3().getObject(source, source.display, cap, signal, tooLarge);
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, got ${value}`);
  return value;
}
