/** What a check takes: one photo (JPEG/PNG), one mp4 video, or a list of JPEG/PNG frames. */
export type CheckInput = 'photo' | 'video' | 'frames';

/** Caps a vendor puts on media (its vendor definition says; the loader and the dry-run probe apply them). */
export interface MediaLimits {
  /** Largest video, and largest total of a check's frames, in bytes (GLAIR: 6 MiB). */
  readonly bodyMaxBytes?: number;
}

/** Media bytes ready for a vendor call, already sniffed and validated. */
export interface MediaBlob {
  readonly bytes: Buffer;
  /** Sniffed from the bytes, never from the file name. */
  readonly mime: 'image/jpeg' | 'image/png' | 'video/mp4';
  /** File name sent in multipart bodies (the ref's last path segment, or a generated one). */
  readonly filename: string;
  /** An object store's word on which object this is (s3:// refs): its version id and ETag, when the store gave them. */
  readonly object?: ObjectVersion;
}

/** Which object version an s3:// ref was read from (kept in the record beside the sha256). */
export interface ObjectVersion {
  readonly versionId?: string;
  /** Without its quotes. */
  readonly etag?: string;
}

/**
 * Resolves media references (local path relative to `baseDir`, `file://`, `http(s)://`) and validates
 * them for the check before any paid call.
 * Throws MediaRejectedError (vendor would refuse: empty, wrong type, too large → `rejected`),
 * MediaUnavailableError (missing / unreadable → `failed`), MediaFetchError (transient fetch failure).
 */
export interface MediaLoader {
  /** One JPEG or PNG, at most `photoMaxBytes`. */
  loadPhoto(ref: string, baseDir: string, signal?: AbortSignal): Promise<MediaBlob>;
  /** One mp4 (ISO-BMFF `ftyp`), at most the vendor's `bodyMaxBytes` (default 6 MiB). */
  loadVideo(ref: string, baseDir: string, signal?: AbortSignal): Promise<MediaBlob>;
  /** JPEG/PNG frames, at most the vendor's `bodyMaxBytes` in total. */
  loadFrames(refs: readonly string[], baseDir: string, signal?: AbortSignal): Promise<MediaBlob[]>;
}
