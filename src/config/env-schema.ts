/**
 * The schema of the environment variables (zod): each variable's syntax, bounds and default. config.ts
 * turns its output into a Config.
 */
import { z } from 'zod';
import { isQuotaError, parseQuota, type Quota } from './quota-spec.js';
import type { VendorConfigSpec } from './vendor-settings.js';
import * as D from './defaults.js';
import { MIN_CREDENTIAL_LENGTH } from './redact.js';
import { isStoreUrlProblem, parseStoreUrl, type PgTarget } from './store-url.js';

/**
 * A refusal that says what the value must be and what it was: `must be … (got "0")`. Only for
 * variables whose value is no secret (never a credential or a URL that may carry a password).
 */
const got = (message: string) => ({ error: (issue: { input?: unknown }) => `${message} (got ${JSON.stringify(issue.input)})` });

/** `must be a whole number ≥ 1 (got "0")`: the range in words, never zod's "Too small: expected number to be >=1". */
export function wholeNumberAtLeast(v: string, min: number, ctx: z.RefinementCtx, also = ''): number {
  const n = /^\d{1,15}$/.test(v) ? Number(v) : NaN;
  if (Number.isSafeInteger(n) && n >= min) return n;
  ctx.addIssue({ code: 'custom', message: `must be ${also}a whole number ≥ ${min} (got ${JSON.stringify(v)})` });
  return z.NEVER;
}

/** `whsec_` then standard base64 (padding optional) of at least 16 bytes. */
function isStandardSecret(v: string): boolean {
  const b64 = v.slice('whsec_'.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return false;
  const bytes = Buffer.from(b64, 'base64');
  return bytes.length >= 16 && bytes.toString('base64').replace(/=+$/, '') === b64.replace(/=+$/, '');
}

const optionalSecret = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

/**
 * A vendor credential: unset, or at least MIN_CREDENTIAL_LENGTH characters — a shorter one could not
 * be told from ordinary words when it is kept out of logs (redact.ts). Its value is never echoed.
 */
const credential = optionalSecret.refine((v) => v === undefined || v.length >= MIN_CREDENTIAL_LENGTH, {
  message: `must be at least ${MIN_CREDENTIAL_LENGTH} characters (a shorter credential cannot be kept out of logs and messages), or unset`,
});

const url = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? fallback : v.trim()))
    .pipe(z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }))
    .transform((v) => v.replace(/\/+$/, ''));

const quota = z
  .string()
  .optional()
  .transform((v, ctx): Quota | undefined => {
    if (v === undefined || v.trim() === '') return undefined;
    const parsed = parseQuota(v);
    if (isQuotaError(parsed)) {
      ctx.addIssue({ code: 'custom', message: `${parsed.error} (got ${JSON.stringify(v)})` });
      return z.NEVER;
    }
    return parsed;
  });

/** A price per call: a decimal with at most 6 places, kept as millionths (integers: no float drift). */
const price = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()))
  .pipe(z.string().regex(/^\d{1,9}(\.\d{1,6})?$/, got('must be a decimal price such as 0.02 (at most 6 decimals)')).optional())
  .transform((v) => (v === undefined ? undefined : toMicros(v)));

/** `0.025` → 25000. */
export function toMicros(decimal: string): number {
  const [whole = '0', fraction = ''] = decimal.split('.');
  return Number(whole) * 1_000_000 + Number(fraction.padEnd(6, '0'));
}

const int = (fallback: number, min: number) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? String(fallback) : v.trim()))
    .transform((v, ctx) => wholeNumberAtLeast(v, min, ctx));

export const EnvSchema = z.object({
  REDIS_URL: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()))
    .pipe(z.url({ protocol: /^rediss?$/, message: 'must be a redis:// or rediss:// URL' }).optional()),
  RESCREEN_PREFIX: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === '' ? D.DEFAULT_PREFIX : v))
    .pipe(z.string().regex(/^[A-Za-z0-9_.{}-]{1,64}$/, got('must be 1-64 characters of A-Z a-z 0-9 _ . - { }'))),
  IDENTIFY_MATCH_THRESHOLD: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? String(D.DEFAULT_IDENTIFY_MATCH_THRESHOLD) : v.trim()))
    .pipe(z.string().regex(/^(0(\.\d+)?|1(\.0+)?)$/, got('must be a number from 0 to 1')))
    .transform(Number),
  LOG_LEVEL: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? D.DEFAULT_LOG_LEVEL : v.trim().toLowerCase()))
    .pipe(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { error: (issue) => `must be one of fatal, error, warn, info, debug, trace, silent (got ${JSON.stringify(issue.input)})` })),
  RESCREEN_CONCURRENCY: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? 'auto' : v.trim().toLowerCase()))
    .transform((v, ctx): 'auto' | number => (v === 'auto' ? 'auto' : wholeNumberAtLeast(v, 1, ctx, 'auto or '))),
  RESCREEN_RATE_GUARD_MS: int(D.DEFAULT_RATE_GUARD_MS, 0),
  RESCREEN_QUOTA_RECHECK_MS: int(D.DEFAULT_QUOTA_RECHECK_MS, 50),
  RESCREEN_HELD_RECHECK_MS: int(D.DEFAULT_HELD_RECHECK_MS, 50),
  RESCREEN_CURRENCY: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? D.DEFAULT_CURRENCY : v.trim().toUpperCase()))
    .pipe(z.string().regex(/^[A-Z]{3}$/, got('must be a three-letter ISO 4217 code such as USD or EUR'))),
  RESCREEN_ATTEMPTS: int(D.DEFAULT_ATTEMPTS, 1),
  RESCREEN_BACKOFF_MS: int(D.DEFAULT_BACKOFF_MS, 0),
  RESCREEN_CALL_RETRIES: int(D.DEFAULT_CALL_RETRIES, 0),
  RESCREEN_REQUEST_TIMEOUT_MS: int(D.DEFAULT_REQUEST_TIMEOUT_MS, 100),
  RESCREEN_MAX_RATE_LIMITED: int(D.DEFAULT_MAX_RATE_LIMITED, 0),
  RESCREEN_LOCK_MS: z
    .string()
    .optional()
    .transform((v, ctx) => (v === undefined || v.trim() === '' ? undefined : wholeNumberAtLeast(v.trim(), 1_000, ctx))),
  RESCREEN_STALLED_INTERVAL_MS: int(D.DEFAULT_STALLED_INTERVAL_MS, 500),
  RESCREEN_MAX_STALLED: int(D.DEFAULT_MAX_STALLED, 0),
  RESCREEN_PHOTO_MAX_BYTES: int(D.DEFAULT_PHOTO_MAX_BYTES, 1),
  RESCREEN_WEBHOOK_URL: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()))
    .pipe(z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).optional()),
  /**
   * `whsec_<base64>` (Standard Webhooks: the key is the decoded bytes) or any other text (the key is its
   * UTF-8 bytes). Its value is never echoed.
   */
  RESCREEN_WEBHOOK_SECRET: optionalSecret.refine((v) => v === undefined || !v.startsWith('whsec_') || isStandardSecret(v), {
    message: 'must be whsec_ followed by the base64 of at least 16 bytes (e.g. whsec_$(openssl rand -base64 32)), or a secret without the whsec_ prefix',
  }),
  /** Also send the pre-Standard-Webhooks `x-rescreen-signature` header (default true; removed in the next minor version). */
  RESCREEN_WEBHOOK_LEGACY_SIGNATURE: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? 'true' : v.trim().toLowerCase()))
    .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no'], got('must be true or false')))
    .transform((v) => v === 'true' || v === '1' || v === 'yes'),
  /** Path of the Ed25519 private key (PEM) that signs `rescreen export` bundles. */
  RESCREEN_SIGNING_KEY: optionalSecret,
  RESCREEN_WEBHOOK_ATTEMPTS: int(D.DEFAULT_WEBHOOK_ATTEMPTS, 1),
  RESCREEN_MAX_RESPONSE_BYTES: int(D.DEFAULT_MAX_RESPONSE_BYTES, 256),
  RESCREEN_MAX_ANSWER_BYTES: int(D.DEFAULT_MAX_ANSWER_BYTES, 1024),
  RESCREEN_MAX_CALLS_PER_LINE: int(D.DEFAULT_MAX_CALLS_PER_LINE, 1),
  RESCREEN_BREAKER_FAILURES: int(D.DEFAULT_BREAKER_FAILURES, 1),
  RESCREEN_BREAKER_BASE_MS: int(D.DEFAULT_BREAKER_BASE_MS, 50),
  RESCREEN_BREAKER_MAX_MS: int(D.DEFAULT_BREAKER_MAX_MS, 50),
  RESCREEN_BREAKER_ALERT_MS: int(D.DEFAULT_BREAKER_ALERT_MS, 100),
  RESCREEN_STORE_URL: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()))
    .transform((v, ctx): { url: string; target: PgTarget } | undefined => {
      if (v === undefined) return undefined;
      const read = parseStoreUrl(v);
      if (isStoreUrlProblem(read)) {
        ctx.addIssue({ code: 'custom', message: read.problem === 'not-postgres' ? `${read.message} (unset: results stay in Redis)` : read.message });
        return z.NEVER;
      }
      return { url: v, target: read };
    }),
  RESCREEN_KEEP_RESPONSE: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? D.DEFAULT_KEEP_RESPONSE : v.trim().toLowerCase()))
    .pipe(z.enum(['full', 'minimal'], got('must be full or minimal'))),
  RESCREEN_MAX_QUEUED: int(D.DEFAULT_MAX_QUEUED, 1),
  RESCREEN_MEDIA_ALLOW_HOSTS: z
    .string()
    .optional()
    .transform((v) => (v ?? '').split(',').map((h) => h.trim().toLowerCase().replace(/^\[|\]$/g, '')).filter((h) => h !== '')),
  RESCREEN_SIMULATOR_CREDENTIALS: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? 'auto' : v.trim().toLowerCase()))
    .pipe(z.enum(['auto', 'true', 'false', '1', '0', 'yes', 'no'], got('must be 1 (always use the simulator\'s test credentials where none are set), 0 (never) or auto')))
    .transform((v): 'auto' | 'always' | 'never' => (v === 'auto' ? 'auto' : v === 'true' || v === '1' || v === 'yes' ? 'always' : 'never')),
  RESCREEN_MEDIA_ALLOW_PRIVATE: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? 'false' : v.trim().toLowerCase()))
    .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no'], got('must be true or false')))
    .transform((v) => v === 'true' || v === '1' || v === 'yes'),
});

/** The variables of each vendor (base URL, credentials, quota), by the vendor's own spec. */
export function vendorEnvSchema(specs: readonly VendorConfigSpec[]): z.ZodObject<Record<string, z.ZodType<string | number | Quota | undefined>>> {
  const shape: Record<string, z.ZodType<string | number | Quota | undefined>> = {};
  for (const spec of specs) {
    shape[spec.baseUrlVar] = url(spec.defaultBaseUrl);
    for (const variable of Object.values(spec.credentials)) shape[variable] = credential;
    shape[spec.rateLimitVar] = quota;
    shape[spec.priceVar] = price;
  }
  return z.object(shape);
}
