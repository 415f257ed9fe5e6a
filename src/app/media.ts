/**
 * A record's media as the dashboard shows it: read again through the project's media loader (the
 * same host policy, size caps and type sniffing as the workers'), and checked against the sha256 the
 * record kept of the bytes it screened — bytes that no longer hash the same are refused
 * (MEDIA_CHANGED), so the page never shows a picture that was not the one screened.
 */
import { createHash } from 'node:crypto';
import { ErrorCodes, InvalidInputError, MediaUnavailableError, NotFoundError } from '../errors/errors.js';
import { meaningOf } from '../errors/meanings.js';
import { createMediaLoader } from '../media/loader.js';
import type { MediaBlob, MediaLoader } from '../media/types.js';
import { batchBaseDir } from '../queueing/retry.js';
import type { Runtime } from '../runtime/runtime.js';

/** The bytes to serve, with what the record said of them. */
export interface RecordMedia {
  readonly bytes: Buffer;
  readonly mime: MediaBlob['mime'];
  readonly sha256: string;
  /** Whether the record kept a digest these bytes were checked against (false: the line never sent media). */
  readonly verified: boolean;
}

// One loader per runtime and vendor (its caps); the download agent is shared by every loader anyway.
const loaders = new WeakMap<Runtime, Map<string, MediaLoader>>();

function loaderFor(runtime: Runtime, vendor: string): MediaLoader {
  let byVendor = loaders.get(runtime);
  if (!byVendor) loaders.set(runtime, (byVendor = new Map<string, MediaLoader>()));
  let loader = byVendor.get(vendor);
  if (!loader) {
    const definition = runtime.vendors.find((v) => v.name === vendor);
    loader = createMediaLoader({ photoMaxBytes: runtime.config.photoMaxBytes, hostPolicy: runtime.config.mediaHosts, s3: runtime.s3, ...definition?.media });
    byVendor.set(vendor, loader);
  }
  return loader;
}

/**
 * The media of a record: its photo or video, or frame `item` (1-based) of its frames.
 * @throws NotFoundError (no such record, no media ref, no such frame); the loader's media errors
 *   (MEDIA_NOT_FOUND, MEDIA_HOST_REFUSED, MEDIA_TOO_LARGE, …); MediaUnavailableError MEDIA_CHANGED
 *   when the bytes differ from those the record screened.
 */
export async function recordMedia(runtime: Runtime, batch: string, line: number, item = 1, signal?: AbortSignal): Promise<RecordMedia> {
  if (!Number.isInteger(item) || item < 1) throw new InvalidInputError(`item must be a whole number from 1, got ${item}`);
  const record = await runtime.store.get(batch, line);
  if (!record) throw new NotFoundError(`no record for batch ${JSON.stringify(batch)} line ${line}`);
  if (record.check === null || !runtime.checks.has(record.check)) throw new NotFoundError(`line ${line} of ${batch} names no known check: it has no media to show`);
  const input = runtime.checks.get(record.check).input;
  const refs = input === 'frames' ? (record.frames ?? []) : record.ref !== undefined ? [record.ref] : [];
  const ref = refs[item - 1];
  if (ref === undefined) throw new NotFoundError(`line ${line} of ${batch} has no media item ${item} (it has ${refs.length})`);
  const summary = await runtime.store.summary(batch);
  const baseDir = await batchBaseDir(summary?.manifest ?? '.');
  const loader = loaderFor(runtime, runtime.checks.vendorOf(record.check));
  const blob = input === 'video' ? await loader.loadVideo(ref, baseDir, signal) : input === 'photo' ? await loader.loadPhoto(ref, baseDir, signal) : await loadFrame(loader, refs, item, baseDir, signal);
  const sha256 = createHash('sha256').update(blob.bytes).digest('hex');
  const kept = record.media?.[item - 1]?.sha256;
  if (kept !== undefined && kept !== sha256) {
    throw new MediaUnavailableError(ErrorCodes.MEDIA_CHANGED, `media ${item} of ${batch} line ${line} changed since it was screened: sha256 ${sha256.slice(0, 12)}… now, ${kept.slice(0, 12)}… in the record`);
  }
  return { bytes: blob.bytes, mime: blob.mime, sha256, verified: kept !== undefined };
}

/** One frame, read alone (the frame cap still holds: the loader's total over one frame). */
async function loadFrame(loader: MediaLoader, refs: readonly string[], item: number, baseDir: string, signal: AbortSignal | undefined): Promise<MediaBlob> {
  const [blob] = await loader.loadFrames([refs[item - 1]!], baseDir, signal);
  return blob!;
}

/** Every vendor's engine codes and what they mean, for {@link codeMeaning}. */
export function vendorCodeMeanings(runtime: Runtime): Record<string, string> {
  return Object.assign({}, ...runtime.vendors.map((v) => v.codeMeanings ?? {})) as Record<string, string>;
}

/** What a record's `error.code` means (local, HTTP or a vendor's engine code), or null. */
export function codeMeaning(runtime: Runtime, code: string | number): string | null {
  return meaningOf(code, vendorCodeMeanings(runtime));
}
