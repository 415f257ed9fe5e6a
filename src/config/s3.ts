/**
 * Object storage (S3 and S3-compatible stores): the `s3://bucket/key` reference syntax and the
 * RESCREEN_S3_* variables (zod), parsed once by parseConfig in config.ts. Credentials are not
 * configuration: the AWS SDK's default provider chain finds them (src/media/s3.ts).
 */
import { z } from 'zod';

/** How rescreen reaches object storage. */
export interface S3Settings {
  /** RESCREEN_S3_ENDPOINT: an S3-compatible store's URL (MinIO, Ceph, R2…); `undefined`: AWS itself. */
  readonly endpoint: string | undefined;
  /** RESCREEN_S3_REGION; `undefined`: the SDK's own (AWS_REGION, the profile), `us-east-1` with an endpoint. */
  readonly region: string | undefined;
  /** RESCREEN_S3_FORCE_PATH_STYLE: `http://host/bucket/key` instead of `http://bucket.host/key` (most S3-compatible stores). */
  readonly forcePathStyle: boolean;
  /** RESCREEN_S3_ALLOW_BUCKETS: the only buckets refs may name; `undefined`: any. */
  readonly allowBuckets: readonly string[] | undefined;
}

/** Bucket names as S3 (and its compatible stores) allow them: 3-63 of a-z 0-9 . - _ (legacy), starting and ending alphanumeric. */
const BUCKET = /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/;

/** A parsed `s3://bucket/key` (the key as written: S3 keys are not URL-encoded in a ref). */
export interface S3Location {
  readonly bucket: string;
  readonly key: string;
}

/** True for a ref that names object storage (`s3://…`, any case of the scheme). */
export function isS3Ref(ref: string): boolean {
  return /^s3:\/\//i.test(ref);
}

/**
 * Reads `s3://bucket/key`. A prefix (`allowPrefix`) may have an empty key or one ending in `/`.
 * @returns the location, or the reason it is malformed (one phrase: no bucket, no key, spaces…).
 */
export function parseS3Ref(ref: string, allowPrefix = false): S3Location | { readonly problem: string } {
  if (!isS3Ref(ref)) return { problem: 'must start with s3://' };
  const rest = ref.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  const key = slash === -1 ? '' : rest.slice(slash + 1);
  if (bucket === '') return { problem: 'names no bucket (s3://bucket/key)' };
  if (!BUCKET.test(bucket)) return { problem: `has an invalid bucket name ${JSON.stringify(bucket)} (3-63 characters of a-z 0-9 . - _)` };
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(key)) return { problem: 'has spaces or control characters in its key' };
  if (!allowPrefix && (key === '' || key.endsWith('/'))) return { problem: 'names no object key (s3://bucket/key)' };
  if (Buffer.byteLength(key) > 1024) return { problem: 'has a key longer than 1024 bytes' };
  return { bucket, key };
}

/** Whether a line or job names object storage (its ref, or one of its frames). */
export function needsS3(line: { readonly ref?: string | undefined; readonly frames?: readonly string[] | undefined }): boolean {
  return (line.ref !== undefined && isS3Ref(line.ref)) || (line.frames?.some(isS3Ref) ?? false);
}

export function isS3Problem(value: S3Location | { readonly problem: string }): value is { readonly problem: string } {
  return 'problem' in value;
}

const got = (message: string) => ({ error: (issue: { input?: unknown }) => `${message} (got ${JSON.stringify(issue.input)})` });
const trimmed = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

export const S3EnvSchema = z.object({
  RESCREEN_S3_ENDPOINT: trimmed
    .pipe(z.url({ protocol: /^https?$/, message: 'must be an http(s) URL, e.g. http://minio.internal:9000' }).optional())
    .refine((v) => v === undefined || (new URL(v).username === '' && new URL(v).password === ''), { message: 'must not carry credentials (the SDK finds them)' }),
  RESCREEN_S3_REGION: trimmed.pipe(z.string().regex(/^[a-z0-9-]{2,32}$/, got('must be a region name such as us-east-1')).optional()),
  RESCREEN_S3_FORCE_PATH_STYLE: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? 'false' : v.trim().toLowerCase()))
    .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no'], got('must be true or false')))
    .transform((v) => v === 'true' || v === '1' || v === 'yes'),
  RESCREEN_S3_ALLOW_BUCKETS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const names = (v ?? '').split(',').map((b) => b.trim()).filter((b) => b !== '');
      const bad = names.find((b) => !BUCKET.test(b));
      if (bad !== undefined) {
        ctx.addIssue({ code: 'custom', message: `must be comma-separated bucket names (got ${JSON.stringify(bad)})` });
        return z.NEVER;
      }
      return names.length === 0 ? undefined : names;
    }),
});

/** The S3 settings of a parsed environment. */
export function s3Settings(e: z.infer<typeof S3EnvSchema>): S3Settings {
  return {
    endpoint: e.RESCREEN_S3_ENDPOINT?.replace(/\/+$/, ''),
    region: e.RESCREEN_S3_REGION,
    forcePathStyle: e.RESCREEN_S3_FORCE_PATH_STYLE,
    allowBuckets: e.RESCREEN_S3_ALLOW_BUCKETS,
  };
}
