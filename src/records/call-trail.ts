/**
 * The evidence of one job's vendor calls: every call that got an HTTP answer becomes an attempt-log
 * row (transaction id / Request-Id, status, engine code, duration, attempt, time, worker, the origin
 * that answered), and the
 * bytes each call sent are digested (sha256, size, sniffed type) for the record. The vendor clients
 * are wrapped generically: every method of every vendor client in the registry's list, whatever its
 * name, and every MediaBlob among its arguments.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { ProcessorDeps } from '../checks/processor.js';
import type { JobPayload, MediaDigest } from '../checks/types.js';
import { AnswerTooLargeError, MalformedResponseError, VendorApiError } from '../errors/errors.js';
import { hashMedia, type PerceptualHash } from '../media/perceptual.js';
import type { MediaBlob } from '../media/types.js';
import type { AttemptRow, ResultStore } from '../store/types.js';

/** `host:pid` of this process: the attempt log's worker id. */
export const WORKER_ID = `${hostname()}:${process.pid}`;

/** The blobs among a call's arguments (a blob, or a list of them: frames), in order. */
function blobsOf(args: readonly unknown[]): MediaBlob[] {
  return args.flatMap((arg) => (Array.isArray(arg) ? arg.filter(isBlob) : isBlob(arg) ? [arg] : []));
}

function isBlob(value: unknown): value is MediaBlob {
  return typeof value === 'object' && value !== null && Buffer.isBuffer((value as MediaBlob).bytes) && typeof (value as MediaBlob).mime === 'string';
}

/** Digests of the media among a call's arguments (a blob, or a list of them: frames), in order. */
export function digestArgs(args: readonly unknown[]): MediaDigest[] {
  return blobsOf(args).map((b) => ({
    sha256: createHash('sha256').update(b.bytes).digest('hex'),
    bytes: b.bytes.length,
    type: b.mime,
    ...(b.object?.versionId !== undefined ? { versionId: b.object.versionId } : {}),
    ...(b.object?.etag !== undefined ? { etag: b.object.etag } : {}),
  }));
}

/** What an answered call's outcome says: HTTP status, transaction id, engine code; undefined when no HTTP answer came. */
function answerOf(outcome: { ok: true; value: unknown } | { ok: false; error: unknown }): Pick<AttemptRow, 'httpStatus' | 'transactionId' | 'code'> | undefined {
  if (outcome.ok) {
    const answer = outcome.value as { status?: unknown; transactionId?: unknown } | null;
    if (typeof answer?.status !== 'number') return undefined;
    return { httpStatus: answer.status, transactionId: typeof answer.transactionId === 'string' ? answer.transactionId : null, code: null };
  }
  const { error } = outcome;
  if (error instanceof VendorApiError || error instanceof MalformedResponseError || error instanceof AnswerTooLargeError) {
    return { httpStatus: error.status, transactionId: error.transactionId, code: error.code };
  }
  return undefined;
}

export class CallTrail {
  private readonly rows: AttemptRow[] = [];
  /** Perceptual hashes by sha256 of the bytes, for this job's calls. */
  private readonly hashes = new Map<string, Promise<PerceptualHash>>();
  /** The media of the latest call sent (what the record's verdict is about). */
  media: MediaDigest[] | undefined;

  constructor(
    private readonly payload: JobPayload,
    private readonly attempt: number,
    private readonly worker: string = WORKER_ID,
    private readonly now: () => Date = () => new Date(),
    /** The origin of the endpoint a vendor's calls go to (never a path, query or credential). */
    private readonly endpointOf?: (vendor: string) => string | null,
  ) {}

  /** The processor dependencies with every call of the vendor's client (every method but `close`) observed. */
  observe(deps: ProcessorDeps, vendor: string): ProcessorDeps {
    if (typeof deps.client !== 'object' || deps.client === null) return deps;
    const client: unknown = new Proxy(deps.client, {
      get: (target, name, receiver) => {
        const value: unknown = Reflect.get(target, name, receiver);
        if (typeof value !== 'function' || name === 'close') return value;
        return async (...args: unknown[]) => this.call(vendor, () => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args), args);
      },
    });
    return { ...deps, client };
  }

  private async call(vendor: string, send: () => Promise<unknown>, args: readonly unknown[]): Promise<unknown> {
    const media = digestArgs(args);
    if (media.length > 0) this.media = media;
    const started = performance.now();
    let outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: await send() };
    } catch (error) {
      outcome = { ok: false, error };
    }
    // The call's own duration: the hashing below is ours, not the vendor's.
    const durationMs = Math.round(performance.now() - started);
    // Perceptual hashes of the bytes already in hand (no second download), once the call is back:
    // decoding while the call is out would hold the event loop under the call's own timeout.
    if (media.length > 0) {
      const hashed = await this.withHashes(media, blobsOf(args));
      if (this.media === media) this.media = hashed;
    }
    const answer = answerOf(outcome);
    if (answer) {
      this.rows.push({
        batch: this.payload.batch,
        line: this.payload.line,
        subject: this.payload.subject,
        check: this.payload.check,
        vendor,
        attempt: this.attempt,
        ...answer,
        durationMs,
        at: this.now().toISOString(),
        worker: this.worker,
        ...(this.endpointOf ? { endpoint: this.endpointOf(vendor) } : {}),
      });
    }
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  /** `media` with the perceptual hashes of its bytes; bytes a previous call of this job sent (a retry) are not decoded again. */
  private async withHashes(media: readonly MediaDigest[], blobs: readonly MediaBlob[]): Promise<MediaDigest[]> {
    return Promise.all(
      media.map(async (m, i) => {
        let hash = this.hashes.get(m.sha256);
        if (hash === undefined) {
          hash = hashMedia(blobs[i]!.bytes, blobs[i]!.mime);
          this.hashes.set(m.sha256, hash);
        }
        return { ...m, ...(await hash) };
      }),
    );
  }

  /** Appends the rows gathered so far to the store's attempt log (before the record is written); how many. */
  async flush(store: Pick<ResultStore, 'appendAttempts'>): Promise<number> {
    if (this.rows.length === 0) return 0;
    const rows = this.rows.splice(0);
    await store.appendAttempts(rows);
    return rows.length;
  }

  /** `{media}` for the record, when a call sent media. */
  mediaField(): { media?: readonly MediaDigest[] } {
    return this.media ? { media: this.media } : {};
  }
}
