/**
 * A local S3-protocol server for tests of manifests of `s3://` refs: s3rver (npm, a devDependency
 * of yours: `npm i -D s3rver`) on loopback, its buckets and objects made through the real AWS SDK,
 * and scripted faults in front of it (an `AccessDenied` key, `SlowDown` 503s on the first tries).
 * Point rescreen at it with {@link TestS3Server.env}.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import type * as NodeCrypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { quietAwsSdkNotice } from '../config/config.js';

/** s3rver's fixed test credentials (it verifies SigV4 signatures made with them). */
export const S3RVER_ACCESS_KEY = 'S3RVER';

/** An answer the server gives instead of the object. */
export interface S3Fault {
  /** HTTP status, e.g. 403 or 503. */
  readonly status: number;
  /** The S3 error code of the XML body, e.g. `AccessDenied`, `SlowDown`. */
  readonly code: string;
  /** How many requests get it; default every one. */
  readonly times?: number;
}

/** One read request (GET or HEAD) as the server received it: when it was signed and with what token. */
export interface S3Read {
  readonly method: string;
  /** The SigV4 signing time (`x-amz-date`): when the client signed the request, by its own clock. */
  readonly signedAt: Date | undefined;
  /** The access key id the request was signed with (from its Authorization header's credential scope). */
  readonly accessKeyId: string | undefined;
  /** The `x-amz-security-token` it carried (temporary credentials' session token); s3rver itself ignores it. */
  readonly sessionToken: string | undefined;
}

export interface TestS3ServerOptions {
  /** Buckets created at start. Default `['media']`. */
  readonly buckets?: readonly string[];
}

export interface TestS3Server {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /**
   * The environment that points rescreen at this server: RESCREEN_S3_ENDPOINT, RESCREEN_S3_REGION,
   * RESCREEN_S3_FORCE_PATH_STYLE, RESCREEN_MEDIA_ALLOW_HOSTS (loopback) and s3rver's test
   * credentials as AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (what the SDK's default chain reads first).
   */
  readonly env: Readonly<Record<string, string>>;
  createBucket(bucket: string): Promise<void>;
  /** Puts one object; returns its ETag (without quotes). */
  putObject(bucket: string, key: string, body: Buffer | string, contentType?: string): Promise<string>;
  /** Puts many objects, `concurrency` at a time (default 32). */
  putObjects(bucket: string, objects: Iterable<{ key: string; body: Buffer | string; contentType?: string }>, concurrency?: number): Promise<void>;
  /** From now on, requests for `bucket/key` (any method) get `fault` (for its `times`). */
  fail(bucket: string, key: string, fault: S3Fault): void;
  /** Reads (GET and HEAD requests) seen for `bucket/key` so far, faults included. */
  requests(bucket: string, key: string): number;
  /** Those reads one by one, in order: when each was signed, with which key id and session token. */
  reads(bucket: string, key: string): readonly S3Read[];
  /** Requests seen in all, by method (`GET`, `HEAD`, …) and for listings (`LIST`). */
  readonly counts: Readonly<Record<string, number>>;
  close(): Promise<void>;
}

interface S3rverLike {
  configureBuckets(): Promise<void>;
  callback(): http.RequestListener;
  logger?: { exceptions?: { unhandle?: () => void }; close?: () => void };
}

/**
 * s3rver makes ListObjectsV2 continuation tokens with DES, which OpenSSL 3 (Node 18+) only has in its
 * legacy provider: every truncated listing (a prefix of more than one page) failed with InternalError.
 * Its tokens only need to be read back by s3rver itself, so 'des' gets AES-128-CBC with the 8-byte
 * key and IV doubled. Nothing but s3rver asks Node for 'des'.
 */
function desForS3rver(): void {
  const crypto = createRequire(import.meta.url)('node:crypto') as typeof NodeCrypto & { rescreenDes?: true };
  if (crypto.rescreenDes) return;
  try {
    crypto.createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
    return;
  } catch {
    // no DES here: substitute it
  }
  const [cipher, decipher] = [crypto.createCipheriv, crypto.createDecipheriv];
  const doubled = (b: NodeCrypto.BinaryLike) => Buffer.concat([Buffer.from(b as Buffer), Buffer.from(b as Buffer)]);
  crypto.createCipheriv = ((algorithm: string, key: Buffer, iv: Buffer, options?: never) =>
    algorithm === 'des' ? cipher('aes-128-cbc', doubled(key), doubled(iv)) : cipher(algorithm, key, iv, options)) as typeof crypto.createCipheriv;
  crypto.createDecipheriv = ((algorithm: string, key: Buffer, iv: Buffer, options?: never) =>
    algorithm === 'des' ? decipher('aes-128-cbc', doubled(key), doubled(iv)) : decipher(algorithm, key, iv, options)) as typeof crypto.createDecipheriv;
  crypto.rescreenDes = true;
}

/** Starts s3rver on a free loopback port, in a temporary folder removed by `close()`. */
export async function startS3Server(options: TestS3ServerOptions = {}): Promise<TestS3Server> {
  let S3rver: new (options: Record<string, unknown>) => S3rverLike;
  try {
    // A devDependency of the user's project: the testing kit itself must not require it.
    const name = 's3rver';
    S3rver = ((await import(name)) as { default: typeof S3rver }).default;
  } catch (cause) {
    throw new Error('startS3Server needs the s3rver package: npm i -D s3rver', { cause });
  }
  desForS3rver();
  const directory = await mkdtemp(path.join(tmpdir(), 'rescreen-s3-'));
  const buckets = options.buckets ?? ['media'];
  const s3rver = new S3rver({ silent: true, directory, vhostBuckets: false, configureBuckets: buckets.map((name) => ({ name })) });
  await s3rver.configureBuckets();
  const handle = s3rver.callback();
  const faults = new Map<string, { fault: S3Fault; left: number }>();
  const seen = new Map<string, S3Read[]>();
  const counts: Record<string, number> = {};
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://local');
    const [bucket = '', ...rest] = url.pathname.slice(1).split('/');
    const key = rest.map((part) => decodeURIComponent(part)).join('/');
    const name = `${decodeURIComponent(bucket)}/${key}`;
    const kind = key === '' && req.method === 'GET' ? 'LIST' : (req.method ?? '?');
    counts[kind] = (counts[kind] ?? 0) + 1;
    if (req.method === 'GET' || req.method === 'HEAD') seen.set(name, [...(seen.get(name) ?? []), readOf(req)]);
    const scripted = faults.get(name);
    if (scripted && scripted.left > 0) {
      scripted.left -= 1;
      req.resume();
      const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${scripted.fault.code}</Code><Message>${scripted.fault.code}</Message><Resource>/${name}</Resource><RequestId>test</RequestId></Error>`;
      res.writeHead(scripted.fault.status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  quietAwsSdkNotice();
  const sdk = await import('@aws-sdk/client-s3');
  const client: S3Client = new sdk.S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: S3RVER_ACCESS_KEY, secretAccessKey: S3RVER_ACCESS_KEY },
  });
  const putObject = async (bucket: string, key: string, body: Buffer | string, contentType?: string): Promise<string> => {
    const out = await client.send(new sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...(contentType ? { ContentType: contentType } : {}) }));
    return (out.ETag ?? '').replace(/^"|"$/g, '');
  };
  return {
    endpoint,
    env: {
      RESCREEN_S3_ENDPOINT: endpoint,
      RESCREEN_S3_REGION: 'us-east-1',
      RESCREEN_S3_FORCE_PATH_STYLE: 'true',
      RESCREEN_MEDIA_ALLOW_HOSTS: '127.0.0.1',
      AWS_ACCESS_KEY_ID: S3RVER_ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: S3RVER_ACCESS_KEY,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    counts,
    async createBucket(bucket) {
      await client.send(new sdk.CreateBucketCommand({ Bucket: bucket }));
    },
    putObject,
    async putObjects(bucket, objects, concurrency = 32) {
      const iterator = objects[Symbol.iterator]();
      const worker = async (): Promise<void> => {
        for (let next = iterator.next(); next.done !== true; next = iterator.next()) await putObject(bucket, next.value.key, next.value.body, next.value.contentType);
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
    },
    fail(bucket, key, fault) {
      faults.set(`${bucket}/${key}`, { fault, left: fault.times ?? Infinity });
    },
    requests: (bucket, key) => seen.get(`${bucket}/${key}`)?.length ?? 0,
    reads: (bucket, key) => seen.get(`${bucket}/${key}`) ?? [],
    async close() {
      client.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      s3rver.logger?.exceptions?.unhandle?.();
      s3rver.logger?.close?.();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** What {@link TestS3Server.reads} keeps of a request: its signing time, key id and token (never its signature). */
function readOf(req: http.IncomingMessage): S3Read {
  const header = (name: string) => {
    const value = req.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  // x-amz-date is 20261206T054130Z (ISO 8601 basic format).
  const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(header('x-amz-date') ?? '');
  return {
    method: req.method ?? '?',
    signedAt: date ? new Date(`${date[1]}-${date[2]}-${date[3]}T${date[4]}:${date[5]}:${date[6]}Z`) : undefined,
    accessKeyId: /Credential=([^/,\s]+)\//.exec(header('authorization') ?? '')?.[1],
    sessionToken: header('x-amz-security-token'),
  };
}
