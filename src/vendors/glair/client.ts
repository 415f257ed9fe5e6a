/**
 * GLAIR deepfake client (seed: Deepfake Detection). Basic auth + `x-api-key`; the transaction id is the
 * `Request-Id` response header, on errors too.
 */
import type { FormData } from 'undici';
import { MalformedResponseError, VendorRejectedError } from '../../errors/errors.js';
import type { MediaBlob } from '../../media/types.js';
import { describeIssues, isSuccessStatus, statusError, type VendorResponse } from '../http.js';
import { createTransport, type TransportOptions } from '../transport.js';
import { mediaBlob, mediaForm } from '../multipart.js';
import type { CallOptions, GlairClient, GlairDeepfakeResult, VendorAnswer } from '../types.js';
import { GLAIR } from './identity.js';
import { GlairDeepfakeSchema, GlairEnvelopeSchema } from './schemas.js';

export interface GlairClientOptions extends TransportOptions {
  /**
   * Basic auth user. `Authorization: Basic base64(username:password)` is sent when either of username
   * and password is defined (a missing one as empty); when both are `undefined` it is not sent.
   */
  readonly username?: string | undefined;
  /** Basic auth password; see `username`. */
  readonly password?: string | undefined;
  /** Sent as `x-api-key`; not sent when `undefined`. */
  readonly apiKey?: string | undefined;
}

const VIDEO_PATH = '/face/v1/deepfake';
const FRAMES_PATH = '/face/v1/deepfake/images';

/** Creates a {@link GlairClient}. Throws TypeError when `baseUrl` is not a URL. */
export function createGlairClient(options: GlairClientOptions): GlairClient {
  const transport = createTransport(GLAIR, options);

  const authHeaders: Record<string, string> = { accept: 'application/json' };
  if (options.username !== undefined || options.password !== undefined) {
    const pair = `${options.username ?? ''}:${options.password ?? ''}`;
    authHeaders.authorization = `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
  }
  if (options.apiKey !== undefined) authHeaders['x-api-key'] = options.apiKey;

  function post(
    path: string,
    body: () => Buffer | FormData,
    extraHeaders: Readonly<Record<string, string>>,
    signal: AbortSignal | undefined,
  ): Promise<VendorAnswer<GlairDeepfakeResult>> {
    return transport.post({ path, headers: { ...authHeaders, ...extraHeaders }, body, signal }, interpret);
  }

  return {
    video(video: MediaBlob, call: CallOptions = {}): Promise<VendorAnswer<GlairDeepfakeResult>> {
      // GLAIR takes mp4 only; the loader has sniffed it, the part is typed video/mp4 regardless.
      const blob = mediaBlob({ ...video, mime: 'video/mp4' });
      return post(VIDEO_PATH, () => mediaForm('video', blob, video.filename), {}, call.signal);
    },

    frames(frames: readonly MediaBlob[], call: CallOptions = {}): Promise<VendorAnswer<GlairDeepfakeResult>> {
      const json = framesJson(frames);
      return post(FRAMES_PATH, () => json, { 'content-type': 'application/json' }, call.signal);
    },

    close: () => transport.close(),
  };
}

/**
 * `{"frames":["<base64>",…]}` as bytes, built once per call and reused by every retry. Base64 needs
 * no JSON escaping, so the string is assembled directly: one base64 string per frame and one join.
 */
export function framesJson(frames: readonly MediaBlob[]): Buffer {
  const parts = frames.map((frame) => frame.bytes.toString('base64'));
  return Buffer.from(`{"frames":["${parts.join('","')}"]}`, 'latin1');
}

/** `Request-Id` response header (names are lower-cased by send), `null` when absent or empty. */
function requestId(response: VendorResponse): string | null {
  const value = response.headers['request-id']?.trim();
  return value === undefined || value === '' ? null : value;
}

/**
 * One HTTP answer → VendorAnswer or the taxonomy error:
 * 2xx with status SUCCESS (or no status) and a readable deepfake read → the normalised result;
 * 2xx with another status → VendorRejectedError (code = status, message = reason);
 * 2xx unreadable → MalformedResponseError; 400 → VendorRejectedError (code = body status or HTTP_400);
 * 415 → VendorRejectedError HTTP_415; the rest → the shared status mapping.
 */
function interpret(response: VendorResponse, path: string): VendorAnswer<GlairDeepfakeResult> {
  const transactionId = requestId(response);
  const envelope = GlairEnvelopeSchema.safeParse(response.body);
  const status = envelope.success ? envelope.data.status : undefined;
  const reason = envelope.success ? envelope.data.reason : undefined;

  if (isSuccessStatus(response.status)) {
    if (status !== undefined && status.trim().toUpperCase() !== 'SUCCESS') {
      throw rejected(response, transactionId, status, reason ?? `${GLAIR.label} answered status ${status}`);
    }
    const parsed = GlairDeepfakeSchema.safeParse(response.body);
    if (!parsed.success) {
      throw new MalformedResponseError(
        GLAIR.name,
        response.status,
        response.body,
        transactionId,
        `${GLAIR.label} answered ${path} with HTTP ${response.status} but no readable deepfake result (${describeIssues(parsed.error.issues)})`,
      );
    }
    return { transactionId, status: response.status, result: parsed.data, body: response.body };
  }
  if (response.status === 400) {
    throw rejected(response, transactionId, status ?? 'HTTP_400', reason ?? `${GLAIR.label} refused the request (HTTP 400)`);
  }
  if (response.status === 415) {
    throw rejected(response, transactionId, 'HTTP_415', reason ?? `${GLAIR.label} does not accept this file type (HTTP 415)`);
  }
  throw statusError(GLAIR, response, transactionId);
}

function rejected(response: VendorResponse, transactionId: string | null, code: string, message: string): VendorRejectedError {
  return new VendorRejectedError({
    vendor: GLAIR.name,
    status: response.status,
    headers: { ...response.headers },
    body: response.body,
    transactionId,
    code,
    message,
  });
}
