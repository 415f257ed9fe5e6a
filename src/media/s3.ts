/**
 * `s3://bucket/key` media and prefixes, through the official AWS SDK v3 (`@aws-sdk/client-s3`):
 * GetObject streamed with the loader's caps (refused on its Content-Length, aborted as soon as it
 * passes the cap), HeadObject for the dry run, ListObjectsV2 one page at a time for a prefix
 * manifest. Credentials come from the SDK's default provider chain only (environment, shared
 * config/profile, web identity, container and instance roles): never from a manifest, never kept.
 * The SDK is loaded on first use, so a run without s3:// refs never pays for loading it.
 *
 * Security: an endpoint (RESCREEN_S3_ENDPOINT) goes through the media host policy (an internal
 * address must be allowed by RESCREEN_MEDIA_ALLOW_HOSTS), checked on the address each connection
 * goes to; a bucket outside RESCREEN_S3_ALLOW_BUCKETS is refused before any request.
 */
import http from 'node:http';
import https from 'node:https';
import type { LookupOptions } from 'node:dns';
import type * as SdkModule from '@aws-sdk/client-s3';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { quietAwsSdkNotice } from '../config/config.js';
import type { S3Location, S3Settings } from '../config/s3.js';
import { ErrorCodes, MediaFetchError, MediaUnavailableError, RescreenError } from '../errors/errors.js';
import { isTimeout } from '../errors/http-failure.js';
import { guardedLookup, hostAllowed, refuseLiteral, type MediaHostPolicy } from './host-policy.js';
import type { TooLarge } from './limits.js';
import { findHostRefused, hostRefused } from './remote.js';
import type { ObjectVersion } from './types.js';

/**
 * Tries of one S3 request inside the SDK (its standard retry strategy: exponential backoff with
 * jitter on throttling — SlowDown, 503 — 5xx and connection errors). They cost the line nothing: no
 * vendor call is made until the bytes are in hand. Past them the line's job is retried (MEDIA_FETCH).
 */
export const S3_MAX_ATTEMPTS = 5;

/** What the SDK's default provider chain looks at, in its order: named when none gave credentials. */
export const S3_CREDENTIAL_SOURCES =
  'environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), the shared config and credentials files ' +
  '(AWS_PROFILE, ~/.aws/config, ~/.aws/credentials, SSO, credential_process), web identity (AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN), ' +
  'the container role (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI) and the instance role (EC2 instance metadata)';

/** One object read: its bytes and which version they are. */
export interface S3Object {
  readonly bytes: Buffer;
  readonly object: ObjectVersion;
}

/** What HeadObject says of an object (the dry run). */
export interface S3Head {
  readonly size: number | undefined;
  readonly contentType: string | undefined;
  readonly object: ObjectVersion;
}

/** One ListObjectsV2 page: keys in UTF-8 binary order, and the token of the next page. */
export interface S3Page {
  readonly objects: readonly { readonly key: string; readonly size: number | undefined; readonly etag: string | undefined }[];
  readonly next: string | undefined;
}

/** Object storage as rescreen uses it. Every method checks the bucket allow-list before any request. */
export interface S3Access {
  /** At most `cap` bytes of an object; `tooLarge(size)` as soon as it is known to hold more. */
  getObject(location: S3Location, display: string, cap: number, signal: AbortSignal | undefined, tooLarge: TooLarge): Promise<S3Object>;
  headObject(location: S3Location, display: string): Promise<S3Head>;
  /** One page of keys under `prefix`, after `startAfter` (a key) or from `continuation` (a token). */
  listPage(bucket: string, prefix: string, from: { startAfter?: string; continuation?: string }, pageSize?: number): Promise<S3Page>;
  /**
   * Resolves credentials through the default provider chain (cached by the SDK until they expire:
   * each request gets fresh ones). @throws MediaUnavailableError MEDIA_ACCESS_DENIED naming where it looked.
   */
  requireCredentials(): Promise<void>;
  /** @throws MediaUnavailableError MEDIA_HOST_REFUSED for a bucket outside RESCREEN_S3_ALLOW_BUCKETS (no request made). */
  checkBucket(bucket: string, display: string): void;
  close(): void;
}

/** Options of {@link createS3Access}. */
export interface S3AccessOptions {
  /** The media host policy (config `mediaHosts`): which addresses the endpoint may be. Default: public only. */
  readonly hostPolicy?: MediaHostPolicy;
  /** Time limit of one request, from sending until the last byte, ms. Default 30000. */
  readonly timeoutMs?: number;
  /** Tries inside the SDK per request. Default {@link S3_MAX_ATTEMPTS}. */
  readonly maxAttempts?: number;
}

type Sdk = typeof SdkModule;
let sdkLoading: Promise<Sdk> | undefined;
function loadSdk(): Promise<Sdk> {
  quietAwsSdkNotice();
  return (sdkLoading ??= import('@aws-sdk/client-s3'));
}

class Deadline extends Error {
  override name = 'Deadline';
}

/** Builds the {@link S3Access} of a process from the config's `s3` settings. Opens nothing until first used. */
export function createS3Access(settings: S3Settings, options: S3AccessOptions = {}): S3Access {
  const policy = options.hostPolicy ?? { allowHosts: [], allowPrivate: false };
  const timeoutMs = options.timeoutMs ?? 30_000;
  const endpointHost = settings.endpoint === undefined ? undefined : new URL(settings.endpoint).hostname;
  // Virtual-hosted requests go to `<bucket>.<endpoint host>`: allowed when the endpoint itself is.
  const endpointAllowed = endpointHost !== undefined && hostAllowed(policy, endpointHost);
  const lookup = (hostname: string, opts: LookupOptions, callback: Parameters<ReturnType<typeof guardedLookup>>[2]) => {
    const under = endpointAllowed && (hostname === endpointHost || hostname.endsWith(`.${endpointHost}`));
    guardedLookup(under ? { ...policy, allowHosts: [...policy.allowHosts, hostname.toLowerCase()] } : policy)(hostname, opts, callback);
  };
  const agentOptions = { keepAlive: true, maxSockets: 64, ...(policy.allowPrivate ? {} : { lookup }) };
  let client: Promise<S3Client> | undefined;
  const clientOf = (): Promise<S3Client> =>
    (client ??= loadSdk().then((sdk) => {
      const config: S3ClientConfig = {
        ...(settings.region !== undefined ? { region: settings.region } : settings.endpoint !== undefined ? { region: 'us-east-1' } : {}),
        ...(settings.endpoint !== undefined ? { endpoint: settings.endpoint } : {}),
        forcePathStyle: settings.forcePathStyle,
        maxAttempts: options.maxAttempts ?? S3_MAX_ATTEMPTS,
        requestHandler: {
          httpAgent: new http.Agent(agentOptions),
          httpsAgent: new https.Agent(agentOptions),
          connectionTimeout: Math.min(timeoutMs, 10_000),
          requestTimeout: timeoutMs,
        },
      };
      return new sdk.S3Client(config);
    }));

  function checkBucket(bucket: string, display: string): void {
    if (settings.allowBuckets !== undefined && !settings.allowBuckets.includes(bucket)) {
      throw new MediaUnavailableError(
        ErrorCodes.MEDIA_HOST_REFUSED,
        `${display}: bucket ${bucket} is not in RESCREEN_S3_ALLOW_BUCKETS (${settings.allowBuckets.join(', ')}); nothing was requested`,
      );
    }
    // An IP-literal endpoint the policy refuses: refused before any request (names are checked at connect).
    if (endpointHost !== undefined) {
      const refused = refuseLiteral(policy, endpointHost);
      if (refused) throw hostRefused(display, undefined, refused);
    }
  }

  /** Runs one SDK command with the time limit and the caller's signal; maps every failure. */
  async function send<T>(display: string, signal: AbortSignal | undefined, run: (c: S3Client, abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Deadline(`no complete answer within ${timeoutMs} ms`)), timeoutMs);
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await run(await clientOf(), controller.signal);
    } catch (error) {
      if (error instanceof RescreenError) throw error;
      if (signal?.aborted) throw signal.reason;
      if (controller.signal.reason instanceof Deadline || isTimeout(error)) {
        throw new MediaFetchError(ErrorCodes.MEDIA_FETCH, `${display}: the object store did not answer within ${timeoutMs} ms`, { cause: error });
      }
      throw s3Error(error, display);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  return {
    checkBucket,
    async getObject(location, display, cap, signal, tooLarge) {
      checkBucket(location.bucket, display);
      const sdk = await loadSdk();
      return send(display, signal, async (c, abortSignal) => {
        const answer = await c.send(new sdk.GetObjectCommand({ Bucket: location.bucket, Key: location.key }), { abortSignal });
        const body = answer.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
        const object = versionOf(answer);
        if (answer.ContentLength !== undefined && answer.ContentLength > cap) {
          body?.destroy?.();
          throw tooLarge(answer.ContentLength);
        }
        const chunks: Buffer[] = [];
        let total = 0;
        for await (const chunk of body ?? []) {
          total += chunk.byteLength;
          if (total > cap) {
            // Stop reading now: destroying the body closes the connection.
            body?.destroy?.();
            throw tooLarge(answer.ContentLength);
          }
          chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        }
        return { bytes: Buffer.concat(chunks, total), object };
      });
    },
    async headObject(location, display) {
      checkBucket(location.bucket, display);
      const sdk = await loadSdk();
      return send(display, undefined, async (c, abortSignal) => {
        const answer = await c.send(new sdk.HeadObjectCommand({ Bucket: location.bucket, Key: location.key }), { abortSignal });
        return { size: answer.ContentLength, contentType: answer.ContentType, object: versionOf(answer) };
      });
    },
    async listPage(bucket, prefix, from, pageSize = 1000) {
      const display = `s3://${bucket}/${prefix}`;
      checkBucket(bucket, display);
      const sdk = await loadSdk();
      return send(display, undefined, async (c, abortSignal) => {
        const answer = await c.send(
          new sdk.ListObjectsV2Command({
            Bucket: bucket,
            Prefix: prefix,
            MaxKeys: pageSize,
            ...(from.continuation !== undefined ? { ContinuationToken: from.continuation } : from.startAfter !== undefined ? { StartAfter: from.startAfter } : {}),
          }),
          { abortSignal },
        );
        const objects = (answer.Contents ?? []).flatMap((o) => (o.Key === undefined ? [] : [{ key: o.Key, size: o.Size, etag: o.ETag?.replace(/^"|"$/g, '') }]));
        return { objects, next: answer.IsTruncated === true ? answer.NextContinuationToken : undefined };
      });
    },
    async requireCredentials() {
      const c = await clientOf();
      try {
        await c.config.credentials();
      } catch (error) {
        throw new MediaUnavailableError(
          ErrorCodes.MEDIA_ACCESS_DENIED,
          `no AWS credentials for s3:// media: the SDK's default provider chain found none (it looked at ${S3_CREDENTIAL_SOURCES})`,
          { cause: error },
        );
      }
    },
    close() {
      void client?.then((c) => c.destroy()).catch(() => undefined);
      client = undefined;
    },
  };
}

function versionOf(answer: { VersionId?: string | undefined; ETag?: string | undefined }): ObjectVersion {
  const etag = answer.ETag?.replace(/^W\//, '').replace(/^"|"$/g, '');
  return {
    ...(answer.VersionId !== undefined && answer.VersionId !== 'null' ? { versionId: answer.VersionId } : {}),
    ...(etag !== undefined && etag !== '' ? { etag } : {}),
  };
}

/** The error names S3 (and the compatible stores) give a refusal of access. */
const DENIED = new Set(['AccessDenied', 'Forbidden', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AllAccessDisabled', 'AccountProblem', 'InvalidObjectState', 'ExpiredToken', 'InvalidToken']);
const NOT_FOUND = new Set(['NoSuchKey', 'NotFound', 'NoSuchBucket', 'NoSuchVersion']);

/**
 * An SDK failure as the loader reports it: not found → MEDIA_NOT_FOUND; refused → MEDIA_ACCESS_DENIED
 * (final, costs no vendor call); throttling, 5xx, connection → MEDIA_FETCH (retried). Messages name
 * the store's error code and status only: never a header, a signature or a credential.
 */
export function s3Error(error: unknown, display: string): RescreenError {
  const refused = findHostRefused(error);
  if (refused) return hostRefused(display, undefined, refused);
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number }; code?: string } | null;
  const name = e?.name ?? 'Error';
  const status = e?.$metadata?.httpStatusCode;
  const what = `${name}${status !== undefined ? `, HTTP ${status}` : ''}`;
  if (name === 'CredentialsProviderError') {
    return new MediaFetchError(ErrorCodes.MEDIA_FETCH, `${display}: no AWS credentials could be loaded (${S3_CREDENTIAL_SOURCES})`, { cause: error });
  }
  if (NOT_FOUND.has(name) || status === 404) {
    return new MediaUnavailableError(ErrorCodes.MEDIA_NOT_FOUND, `${display}: no such object (${what})`, { cause: error });
  }
  if (DENIED.has(name) || status === 403 || status === 401) {
    return new MediaUnavailableError(ErrorCodes.MEDIA_ACCESS_DENIED, `${display}: the object store refused access (${what}); check the bucket policy and the credentials' permissions (s3:GetObject)`, {
      cause: error,
    });
  }
  if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) {
    return new MediaUnavailableError(ErrorCodes.MEDIA_UNREADABLE, `${display}: the object store refused the request (${what})`, { cause: error });
  }
  const code = e?.code !== undefined && e.code !== name ? `${e.code}: ` : '';
  return new MediaFetchError(ErrorCodes.MEDIA_FETCH, `${display}: the object store did not give the object (${code}${what}); retried`, { cause: error });
}
