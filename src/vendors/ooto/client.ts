/**
 * OOTO client (seeds: deepfake, identify; public docs: add). Multipart `photo` uploads with `APP-ID` /
 * `APP-KEY` headers; the transaction id comes from the body, error bodies included.
 */
import type { Dispatcher } from 'undici';
import type { z } from 'zod';
import type { IdentifyOptions } from '../../checks/types.js';
import { MalformedResponseError, VendorRejectedError } from '../../errors/errors.js';
import type { MediaBlob } from '../../media/types.js';
import {
  DEFAULT_CALL_RETRIES,
  DEFAULT_TIMEOUT_MS,
  createVendorDispatcher,
  describeIssues,
  isSharedErrorStatus,
  isSuccessStatus,
  joinPath,
  parseBaseUrl,
  send,
  statusError,
  withCallRetries,
  type VendorResponse,
} from '../http.js';
import { mediaBlob, mediaForm } from '../multipart.js';
import type { CallOptions, OotoAddResult, OotoClient, OotoDeepfakeResult, OotoIdentifyResult, VendorAnswer } from '../types.js';
import { OotoAddSchema, OotoDeepfakeSchema, OotoEngineErrorSchema, OotoIdentifySchema, ootoTransactionId } from './schemas.js';

export interface OotoClientOptions {
  /**
   * Base URL, e.g. `https://cloud.ooto-ai.com` (config default) or a simulator with a path prefix such as
   * `http://127.0.0.1:4010/ooto`; endpoint paths are appended to it.
   */
  readonly baseUrl: string;
  /** Sent as `APP-ID`. When `undefined` the header is not sent (the vendor then answers 401). */
  readonly appId?: string | undefined;
  /** Sent as `APP-KEY`. When `undefined` the header is not sent (the vendor then answers 401). */
  readonly appKey?: string | undefined;
  /**
   * undici dispatcher to send through (e.g. a MockAgent in tests). Default: a keep-alive Pool to the
   * base URL's origin, owned by the client and closed by `close()`; a given dispatcher is left open.
   */
  readonly dispatcher?: Dispatcher | undefined;
  /** Time limit of one HTTP call (headers and body), ms. Default 60000. */
  readonly timeoutMs?: number | undefined;
  /** Quick in-call retries of transient failures (network, timeout, 408/5xx). Default 2 (3 calls at most). */
  readonly callRetries?: number | undefined;
  /** Delay before the first quick retry, ms; doubles per retry, randomised ×1–2. Default 200. */
  readonly retryMinTimeoutMs?: number | undefined;
  /** Sockets of the default Pool. Default 16. Ignored when `dispatcher` is given. */
  readonly connections?: number | undefined;
}

const DEEPFAKE_PATH = '/api/v1.0/deepfake';
const IDENTIFY_PATH = '/api/v1.0/identify';
const ADD_PATH = '/api/v1.0/add';

/** Creates an {@link OotoClient}. Throws TypeError when `baseUrl` is not a URL. */
export function createOotoClient(options: OotoClientOptions): OotoClient {
  const endpoint = parseBaseUrl(options.baseUrl);
  const ownsDispatcher = options.dispatcher === undefined;
  const dispatcher =
    options.dispatcher ??
    createVendorDispatcher(options.baseUrl, options.connections === undefined ? {} : { connections: options.connections });
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const callRetries = options.callRetries ?? DEFAULT_CALL_RETRIES;

  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.appId !== undefined) headers['APP-ID'] = options.appId;
  if (options.appKey !== undefined) headers['APP-KEY'] = options.appKey;

  async function upload<S extends z.ZodType, T>(
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
    const fullPath = joinPath(endpoint.basePath, path, extra.query);
    const blob = mediaBlob(photo);
    return withCallRetries(
      async () => {
        const response = await send({
          vendor: 'ooto',
          dispatcher,
          origin: endpoint.origin,
          path: fullPath,
          method: 'POST',
          headers,
          body: mediaForm('photo', blob, photo.filename, extra.fields),
          timeoutMs,
          signal: extra.signal,
        });
        return interpret(response, fullPath, schema, pick);
      },
      callRetries,
      { signal: extra.signal, ...(options.retryMinTimeoutMs === undefined ? {} : { minTimeoutMs: options.retryMinTimeoutMs }) },
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

    async close(): Promise<void> {
      if (ownsDispatcher) await dispatcher.close();
    },
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
        'ooto',
        response.status,
        response.body,
        transactionId,
        `OOTO answered ${path} with HTTP ${response.status} but an unreadable body (${describeIssues(parsed.error.issues)})`,
      );
    }
    return { transactionId, status: response.status, result: pick(parsed.data), body: response.body };
  }
  if (isSharedErrorStatus(response.status)) throw statusError('ooto', response, transactionId);
  throw engineError(response, transactionId, false) ?? statusError('ooto', response, transactionId);
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
    vendor: 'ooto',
    status: response.status,
    headers: { ...response.headers },
    body: response.body,
    transactionId,
    code,
    message: info ?? `OOTO engine error ${code}`,
  });
}
