/**
 * OOTO client (seeds: deepfake, identify; public docs: add). Multipart `photo` uploads with `APP-ID` /
 * `APP-KEY` headers; the transaction id comes from the body, error bodies included.
 */
import type { z } from 'zod';
import { MalformedResponseError, VendorRejectedError } from '../../errors/errors.js';
import type { MediaBlob } from '../../media/types.js';
import { describeIssues, isSharedErrorStatus, isSuccessStatus, statusError, type VendorResponse } from '../http.js';
import { createTransport, type TransportOptions } from '../transport.js';
import { mediaBlob, mediaForm } from '../multipart.js';
import type { CallOptions, IdentifyOptions, OotoAddResult, OotoClient, OotoDeepfakeResult, OotoIdentifyResult, VendorAnswer } from '../types.js';
import { OOTO } from './identity.js';
import { OotoAddSchema, OotoDeepfakeSchema, OotoEngineErrorSchema, OotoIdentifySchema, ootoTransactionId } from './schemas.js';

export interface OotoClientOptions extends TransportOptions {
  /** Sent as `APP-ID`. When `undefined` the header is not sent (the vendor then answers 401). */
  readonly appId?: string | undefined;
  /** Sent as `APP-KEY`. When `undefined` the header is not sent (the vendor then answers 401). */
  readonly appKey?: string | undefined;
}

const DEEPFAKE_PATH = '/api/v1.0/deepfake';
const IDENTIFY_PATH = '/api/v1.0/identify';
const ADD_PATH = '/api/v1.0/add';

/** Creates an {@link OotoClient}. Throws TypeError when `baseUrl` is not a URL. */
export function createOotoClient(options: OotoClientOptions): OotoClient {
  const transport = createTransport(OOTO, options);

  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.appId !== undefined) headers['APP-ID'] = options.appId;
  if (options.appKey !== undefined) headers['APP-KEY'] = options.appKey;

  function upload<S extends z.ZodType, T>(
    path: string,
    photo: MediaBlob,
    schema: S,
    pick: (parsed: z.infer<S>) => T,
    extra: {
      readonly query?: Readonly<Record<string, string | undefined>>;
      readonly fields?: Readonly<Record<string, string | undefined>>;
      readonly signal?: AbortSignal | undefined;
    },
  ): Promise<VendorAnswer<T>> {
    const blob = mediaBlob(photo);
    return transport.post(
      {
        path,
        ...(extra.query ? { query: extra.query } : {}),
        headers,
        body: () => mediaForm('photo', blob, photo.filename, extra.fields),
        signal: extra.signal,
      },
      (response, fullPath) => interpret(response, fullPath, schema, pick),
    );
  }

  return {
    deepfake(photo: MediaBlob, call: CallOptions = {}): Promise<VendorAnswer<OotoDeepfakeResult>> {
      return upload(DEEPFAKE_PATH, photo, OotoDeepfakeSchema, (b) => ({ score: b.result.deepfake.score, fine: b.result.deepfake.fine }), {
        signal: call.signal,
      });
    },

    identify(photo: MediaBlob, flags: IdentifyOptions, call: CallOptions = {}): Promise<VendorAnswer<OotoIdentifyResult>> {
      const query = {
        check_liveness: flags.checkLiveness === true ? 'true' : undefined,
        check_deepfake: flags.checkDeepfake === true ? 'true' : undefined,
      };
      return upload(
        IDENTIFY_PATH,
        photo,
        OotoIdentifySchema,
        (b) => ({ similarity: b.result.similarity, templateId: b.result.templateId ?? null }),
        { query, signal: call.signal },
      );
    },

    add(photo: MediaBlob, templateId?: string, call: CallOptions = {}): Promise<VendorAnswer<OotoAddResult>> {
      return upload(ADD_PATH, photo, OotoAddSchema, (b) => ({ templateId: b.result.templateId }), {
        fields: { templateId },
        signal: call.signal,
      });
    },

    close: () => transport.close(),
  };
}

/**
 * Turns one HTTP answer into a VendorAnswer or the taxonomy error:
 * 2xx parses (engine error body → VendorRejectedError; unreadable → MalformedResponseError);
 * 401/403/429/408/5xx → shared mapping; another status with an engine code (the seeds' 400) →
 * VendorRejectedError with the vendor's numeric code; without one → VendorApiError (final).
 */
function interpret<S extends z.ZodType, T>(
  response: VendorResponse,
  path: string,
  schema: S,
  pick: (parsed: z.infer<S>) => T,
): VendorAnswer<T> {
  const transactionId = ootoTransactionId(response.body);
  if (isSuccessStatus(response.status)) {
    const engine = engineError(response, transactionId, true);
    if (engine) throw engine;
    const parsed = schema.safeParse(response.body);
    if (!parsed.success) {
      throw new MalformedResponseError(
        OOTO.name,
        response.status,
        response.body,
        transactionId,
        `${OOTO.label} answered ${path} with HTTP ${response.status} but an unreadable body (${describeIssues(parsed.error.issues)})`,
      );
    }
    return { transactionId, status: response.status, result: pick(parsed.data), body: response.body };
  }
  if (isSharedErrorStatus(response.status)) throw statusError(OOTO, response, transactionId);
  throw engineError(response, transactionId, false) ?? statusError(OOTO, response, transactionId);
}

/**
 * The engine error in a body, if any. On a 2xx it counts only when `result.status` says `error`
 * (the seeds show engine errors on 400 only; a 200 carrying one is still a final answer about the media).
 */
function engineError(response: VendorResponse, transactionId: string | null, onSuccess: boolean): VendorRejectedError | undefined {
  const parsed = OotoEngineErrorSchema.safeParse(response.body);
  if (!parsed.success) return undefined;
  const { code, info, status } = parsed.data.result;
  if (onSuccess && status?.toLowerCase() !== 'error') return undefined;
  return new VendorRejectedError({
    vendor: OOTO.name,
    status: response.status,
    headers: { ...response.headers },
    body: response.body,
    transactionId,
    code,
    message: info ?? `${OOTO.label} engine error ${code}`,
  });
}
