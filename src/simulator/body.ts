/**
 * Request bodies: multipart forms (busboy) and raw bytes, hashed as they stream in and kept in memory
 * only up to a cap.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';

/** Largest file / body the simulator keeps in memory, bytes; bytes beyond are counted and hashed only. */
export const MAX_KEPT_BYTES = 64 * 1024 * 1024;

/** One uploaded file. */
export interface FilePart {
  /** The bytes (only the first {@link MAX_KEPT_BYTES} when `truncated`). */
  readonly bytes: Buffer;
  /** Full size as received, bytes. */
  readonly size: number;
  /** sha256 of all the bytes received. */
  readonly digest: Buffer;
  readonly sha256: string;
  /** The part's declared Content-Type (busboy says `text/plain` when none was sent). */
  readonly mimeType: string;
  readonly filename: string;
  /** More than {@link MAX_KEPT_BYTES} arrived. */
  readonly truncated: boolean;
}

export interface MultipartForm {
  /** The one file wanted, by field name (the first such part). */
  readonly file: FilePart | null;
  /** A text field of that name was sent instead of a file. */
  readonly fieldValue: string | null;
  /** Other text fields (first value of each). */
  readonly fields: ReadonlyMap<string, string>;
  /** Not a multipart body, or the body ended early / could not be parsed. */
  readonly malformed: boolean;
}

/**
 * Parses a multipart body, keeping the file part named `fileField`; other file parts are discarded.
 * Never rejects: a broken body comes back `malformed` with whatever was read.
 */
export function readMultipart(req: IncomingMessage, fileField: string): Promise<MultipartForm> {
  return new Promise((resolve) => {
    let file: FilePart | null = null;
    let fieldValue: string | null = null;
    const fields = new Map<string, string>();
    const pending: Promise<void>[] = [];
    let settled = false;
    const finish = (malformed: boolean): void => {
      if (settled) return;
      settled = true;
      void Promise.all(pending).then(() => resolve({ file, fieldValue, fields, malformed }));
    };
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers, limits: { fields: 100, fieldSize: 1024 * 1024, parts: 200 } });
    } catch {
      req.resume();
      finish(true);
      return;
    }
    bb.on('file', (name, stream, info) => {
      if (name !== fileField || file !== null || pending.length > 0) {
        stream.resume();
        return;
      }
      pending.push(
        collect(stream).then((c) => {
          file = { ...c, mimeType: info.mimeType, filename: info.filename ?? '' };
        }),
      );
    });
    bb.on('field', (name, value) => {
      if (name === fileField && fieldValue === null) fieldValue = value;
      else if (!fields.has(name)) fields.set(name, value);
    });
    bb.on('close', () => finish(false));
    bb.on('error', () => {
      req.unpipe(bb);
      req.resume();
      finish(true);
    });
    req.on('error', () => finish(true));
    req.on('close', () => {
      if (!req.complete) finish(true);
    });
    req.pipe(bb);
  });
}

interface Collected {
  bytes: Buffer;
  size: number;
  digest: Buffer;
  sha256: string;
  truncated: boolean;
}

/** Reads a stream to its end: kept bytes, full size, sha256. Resolves (never rejects) on error too. */
export function collect(stream: NodeJS.ReadableStream, maxKept = MAX_KEPT_BYTES): Promise<Collected> {
  return new Promise((resolve) => {
    const hash = createHash('sha256');
    const chunks: Buffer[] = [];
    let size = 0;
    let kept = 0;
    let done = false;
    const end = (): void => {
      if (done) return;
      done = true;
      const digest = hash.digest();
      const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, kept);
      resolve({ bytes, size, digest, sha256: digest.toString('hex'), truncated: size > kept });
    };
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      hash.update(chunk);
      if (kept < maxKept) {
        const part = kept + chunk.length <= maxKept ? chunk : chunk.subarray(0, maxKept - kept);
        chunks.push(part);
        kept += part.length;
      }
    });
    stream.on('end', end);
    stream.on('error', end);
    stream.on('close', end);
  });
}

/** Reads a whole (non-multipart) body, up to `maxKept` bytes kept. */
export async function readBody(req: IncomingMessage, maxKept = MAX_KEPT_BYTES): Promise<{ bytes: Buffer; size: number; complete: boolean }> {
  const c = await collect(req, maxKept);
  return { bytes: c.bytes, size: c.size, complete: req.complete && !c.truncated };
}
