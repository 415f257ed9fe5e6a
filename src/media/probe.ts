/**
 * The dry run's cheap look at media: for each reference, what the loader (loader.ts) would make of it,
 * without reading it whole and without any download. Local files are `stat`ed and only their first
 * few KB are read to sniff the type; the rules (order included) are the loader's own, through the
 * functions loader.ts and sniff.ts share, so a probe that says "sent" is a paid call and one that
 * says `MEDIA_EMPTY` is a local rejection.
 */
import { ErrorCodes, MediaRejectedError, MediaUnavailableError } from '../errors/errors.js';
import { DEFAULT_BODY_MAX_BYTES, DEFAULT_PHOTO_MAX_BYTES } from '../config/defaults.js';
import { framesOverLimit, overLimit } from './limits.js';
import type { CheckInput, MediaLimits } from './types.js';
import { localError, statLocal } from './local.js';
import { resolveRef, type Source } from './refs.js';
import { PUBLIC_ONLY, refuseHost, type HostRefusedError, type MediaHostPolicy } from './host-policy.js';
import { hostRefused } from './remote.js';
import { createS3Access, type S3Access } from './s3.js';
import { acceptPhoto, acceptVideo, checkMediaSize, detectFileMime } from './sniff.js';

/** Codes of local validation that end `rejected` with no paid call. */
export const LOCAL_REJECT_CODES = [ErrorCodes.MEDIA_EMPTY, ErrorCodes.MEDIA_UNSUPPORTED_TYPE, ErrorCodes.MEDIA_TOO_LARGE] as const;
export type LocalRejectCode = (typeof LOCAL_REJECT_CODES)[number];
/** Codes of local media that cannot be read, which end `failed` with no paid call. */
export const LOCAL_FAIL_CODES = [ErrorCodes.MEDIA_NOT_FOUND, ErrorCodes.MEDIA_UNREADABLE] as const;

/** What the loader would do with a line's media. */
export type ProbeResult =
  /** Every local rule passes: the vendor would be called (a paid call). */
  | { readonly outcome: 'sent' }
  /**
   * An http(s) reference (for frames: at least one, and no local frame fails) whose host the host
   * policy lets through: not fetched, so its size and type are unknown; counted as a paid call.
   */
  | { readonly outcome: 'remote' }
  /** Local validation refuses it: `rejected`, no paid call. */
  | { readonly outcome: 'rejected'; readonly code: LocalRejectCode; readonly message: string }
  /**
   * It cannot be read (missing, unreadable, a refused or malformed reference): `failed`, no paid call.
   * `code` is `MEDIA_NOT_FOUND`, `MEDIA_UNREADABLE` or `MEDIA_HOST_REFUSED` (an http(s) reference to
   * a host the host policy refuses: an IP literal, or a name that resolves only to refused addresses)
   * (or, for an error the loader would not expect, that error's code).
   */
  | { readonly outcome: 'failed'; readonly code: string; readonly message: string };

/** Options of {@link createMediaProbe}: those of the loader that decide an outcome. */
export interface MediaProbeOptions {
  /** Largest photo, bytes. Default 15 MiB; pass `config.photoMaxBytes`, as the workers' loader gets. */
  readonly photoMaxBytes?: number;
  /** Whether local references are allowed. Default `true`, as in the loader. */
  readonly allowFileUrls?: boolean;
  /** Which hosts http(s) references may reach (config `mediaHosts`). Default public addresses only, as in the loader. */
  readonly hostPolicy?: MediaHostPolicy;
  /** How s3:// refs are looked at (HeadObject only: no body is read). Default: AWS itself, as in the loader. */
  readonly s3?: S3Access;
}

/** Probes the media of one line by the check's input kind. Never throws for a media problem. */
export interface MediaProbe {
  /** `limits`: the caps of the check's vendor (its `media` in the vendor registry). */
  probe(input: CheckInput, refs: readonly string[], baseDir: string, limits?: MediaLimits): Promise<ProbeResult>;
}

const SENT: ProbeResult = { outcome: 'sent' };
const REMOTE: ProbeResult = { outcome: 'remote' };

/**
 * Builds a {@link MediaProbe} that applies exactly the rules of `createMediaLoader` with the same
 * options:
 * - photo: a JPEG or PNG of 1 byte to `photoMaxBytes`; video: an mp4 of 1 byte to the vendor's `bodyMaxBytes` (6 MiB by default);
 *   frames: each a JPEG or PNG, at most `bodyMaxBytes` in total, first failing frame wins.
 * - Checked in the loader's order: reference → `stat` (missing, a directory, not a regular file) →
 *   size cap → empty → type sniffed from the first bytes (never the extension).
 * - http(s) references are not fetched: their host is checked against the host policy (an IP literal
 *   as such, a name by what it resolves to now; each host name looked up once per probe), then
 *   `remote`. Redirects cannot be known without fetching.
 */
export function createMediaProbe(options: MediaProbeOptions = {}): MediaProbe {
  const photoMaxBytes = options.photoMaxBytes ?? DEFAULT_PHOTO_MAX_BYTES;
  const allowLocal = options.allowFileUrls ?? true;
  const hostPolicy = options.hostPolicy ?? PUBLIC_ONLY;
  // One look-up per host name for the whole dry run (a manifest often has one bucket for every line).
  const hosts = new Map<string, Promise<HostRefusedError | undefined>>();
  let s3 = options.s3;
  const s3Access = () => (s3 ??= createS3Access({ endpoint: undefined, region: undefined, forcePathStyle: false, allowBuckets: undefined }, { hostPolicy }));

  /**
   * An object's size and type by HeadObject, without reading its body: the size rules as the loader's,
   * the type by the store's Content-Type, else the key's extension; `undefined` when neither says.
   */
  async function headS3(source: Extract<Source, { kind: 's3' }>, cap: number, label: string, tooLarge: (n: number) => MediaRejectedError) {
    const head = await s3Access().headObject(source, source.display);
    if (head.size !== undefined) {
      if (head.size > cap) throw tooLarge(head.size);
      checkMediaSize(head.size, { label });
    }
    return { size: head.size ?? 0, mime: declaredMime(head.contentType, source.key) };
  }

  /** Throws MEDIA_HOST_REFUSED, as the loader would before any request, when the policy refuses the host. */
  async function checkHost(source: Extract<Source, { kind: 'http' }>): Promise<void> {
    const host = source.url.hostname;
    let refused = hosts.get(host);
    if (refused === undefined) hosts.set(host, (refused = refuseHost(hostPolicy, host)));
    const error = await refused;
    if (error) throw hostRefused(source.display, undefined, error);
  }

  async function single(ref: string, baseDir: string, kind: 'photo' | 'video', bodyMaxBytes: number): Promise<ProbeResult> {
    const source = resolveRef(ref, baseDir, allowLocal);
    if (source.kind === 'http') {
      await checkHost(source);
      return REMOTE;
    }
    const cap = kind === 'photo' ? photoMaxBytes : bodyMaxBytes;
    if (source.kind === 's3') {
      const { mime } = await headS3(source, cap, source.display, (n) => overLimit(source.display, n, cap));
      if (mime === undefined) return REMOTE;
      if (kind === 'photo') acceptPhoto(mime, { label: source.display });
      else acceptVideo(mime, { label: source.display });
      return SENT;
    }
    const size = await statLocal(source.path, source.display, cap, (n) => overLimit(source.display, n, cap));
    const sniff = { maxBytes: cap, label: source.display };
    checkMediaSize(size, sniff);
    const mime = await detect(source, size);
    if (kind === 'photo') acceptPhoto(mime, sniff);
    else acceptVideo(mime, sniff);
    return SENT;
  }

  async function frames(refs: readonly string[], baseDir: string, bodyMaxBytes: number): Promise<ProbeResult> {
    if (refs.length === 0) throw new MediaRejectedError(ErrorCodes.MEDIA_EMPTY, 'frames: the list of frames is empty');
    const sources = refs.map((ref) => resolveRef(ref, baseDir, allowLocal));
    let total = 0;
    let remote = false;
    for (const [index, source] of sources.entries()) {
      if (source.kind === 'http') {
        await checkHost(source);
        // Its size is unknown: the total below is a lower bound, so an excess found is certain.
        remote = true;
        continue;
      }
      const label = `frame ${index + 1} of ${sources.length} (${source.display})`;
      const before = total;
      if (source.kind === 's3') {
        const { size, mime } = await headS3(source, bodyMaxBytes - before, label, (n) => framesOverLimit(label, before, n, bodyMaxBytes));
        total += size;
        if (mime === undefined) remote = true;
        else acceptPhoto(mime, { label });
        continue;
      }
      const size = await statLocal(source.path, source.display, bodyMaxBytes - before, (n) => framesOverLimit(label, before, n, bodyMaxBytes));
      total += size;
      checkMediaSize(size, { label });
      acceptPhoto(await detect(source, size), { label });
    }
    return remote ? REMOTE : SENT;
  }

  return {
    async probe(input, refs, baseDir, limits = {}) {
      const bodyMaxBytes = limits.bodyMaxBytes ?? DEFAULT_BODY_MAX_BYTES;
      try {
        switch (input) {
          case 'photo':
          case 'video':
            return await single(refs[0] ?? '', baseDir, input, bodyMaxBytes);
          case 'frames':
            return await frames(refs, baseDir, bodyMaxBytes);
        }
      } catch (error) {
        return outcomeOf(error);
      }
    },
  };
}

/** The media type an object store declares (Content-Type), else the key's extension; `undefined` when neither tells. */
function declaredMime(contentType: string | undefined, key: string): string | undefined {
  const declared = contentType?.split(';')[0]?.trim().toLowerCase();
  if (declared !== undefined && declared !== '' && declared !== 'application/octet-stream' && declared !== 'binary/octet-stream') return declared;
  const ext = /\.([A-Za-z0-9]+)$/.exec(key)?.[1]?.toLowerCase();
  const byExt: Record<string, string> = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', mp4: 'video/mp4', m4v: 'video/mp4' };
  return ext === undefined ? undefined : (byExt[ext] ?? `.${ext}`);
}

async function detect(source: Extract<Source, { kind: 'file' }>, size: number): Promise<string | undefined> {
  try {
    return await detectFileMime(source.path, size);
  } catch (error) {
    throw localError(error, source.display);
  }
}

function outcomeOf(error: unknown): ProbeResult {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof MediaRejectedError && (LOCAL_REJECT_CODES as readonly (string | number)[]).includes(error.code)) {
    return { outcome: 'rejected', code: error.code as LocalRejectCode, message };
  }
  if (error instanceof MediaUnavailableError) return { outcome: 'failed', code: String(error.code), message };
  // Not an outcome the loader has for local media: the dry run says it would fail rather than stop.
  const code = error instanceof MediaRejectedError ? String(error.code) : ErrorCodes.MEDIA_UNREADABLE;
  return { outcome: 'failed', code, message };
}
