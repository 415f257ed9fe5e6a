/**
 * Webhook deliveries, signed as the Standard Webhooks specification says (https://www.standardwebhooks.com),
 * so receivers verify them with a maintained library (`standardwebhooks`, Svix's SDKs) instead of our code:
 *
 * - `webhook-id`: the delivery id, the same on every retry of one event (receivers de-duplicate on it);
 * - `webhook-timestamp`: unix seconds of this attempt;
 * - `webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<raw body>")>`, where the key is
 *   the base64-decoded rest of a `whsec_…` secret, or the UTF-8 bytes of any other secret
 *   (equivalently `whsec_` + base64 of them: see {@link webhookKey}).
 *
 * For one minor version the older `x-rescreen-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
 * "t.body")>` goes along (the secret string as the key, as before), unless turned off
 * (RESCREEN_WEBHOOK_LEGACY_SIGNATURE=false); {@link verifySignature} verifies it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { request, type Dispatcher } from 'undici';
import { ErrorCodes, RescreenError } from '../errors/errors.js';
import { httpStatusCode } from '../errors/http-failure.js';
import type { ChangeCounts } from '../history/changes.js';
import type { DriftSummary } from '../drift/report.js';
import type { BatchSummary } from '../store/types.js';

/** The legacy signature header (`t=…,v1=<hex>`): sent for one more minor version unless turned off. */
export const SIGNATURE_HEADER = 'x-rescreen-signature';
export const WEBHOOK_ID_HEADER = 'webhook-id';
export const WEBHOOK_TIMESTAMP_HEADER = 'webhook-timestamp';
export const WEBHOOK_SIGNATURE_HEADER = 'webhook-signature';
/** The Standard Webhooks prefix of a base64 secret. */
export const STANDARD_SECRET_PREFIX = 'whsec_';
export const EVENT_HEADER = 'x-rescreen-event';
export const DELIVERY_HEADER = 'x-rescreen-delivery';
export const BATCH_FINISHED = 'batch.finished';
/** A review case opened (src/review): body `{event, case}`. */
export const CASE_OPENED = 'case.opened';
/** A decision on a review case: body `{event, case, decision}`. */
export const CASE_DECIDED = 'case.decided';
/** The event types a webhook announces (the body's `event`, the `x-rescreen-event` header). */
export type WebhookEventType = typeof BATCH_FINISHED | typeof CASE_OPENED | typeof CASE_DECIDED;

/** What every webhook body is: a JSON object naming its event type (`batch.finished`, the case events, …). */
export interface WebhookEvent {
  readonly event: WebhookEventType;
}

/** The body of a `batch.finished` POST. */
export interface BatchFinishedEvent extends WebhookEvent {
  readonly event: typeof BATCH_FINISHED;
  readonly batch: string;
  readonly manifest: string | null;
  readonly createdAt: string;
  readonly finishedAt: string | null;
  /** Lines in the batch; every one has a record. */
  readonly total: number;
  readonly byStatus: BatchSummary['byStatus'];
  readonly byVerdict: BatchSummary['byVerdict'];
  /** Verdict changes against each subject's previous screening (README: After a re-screen). */
  readonly changes?: ChangeCounts;
  /** Score drift against each check's previous finished batch, and the canaries (README: Drift and canaries). */
  readonly drift?: DriftSummary;
}

export function batchFinishedEvent(summary: BatchSummary, changes?: ChangeCounts, drift?: DriftSummary): BatchFinishedEvent {
  return {
    event: BATCH_FINISHED,
    batch: summary.batch,
    manifest: summary.manifest,
    createdAt: summary.createdAt,
    finishedAt: summary.finishedAt,
    total: summary.total,
    byStatus: summary.byStatus,
    byVerdict: summary.byVerdict,
    ...(changes !== undefined ? { changes } : {}),
    ...(drift !== undefined ? { drift } : {}),
  };
}

/** How far a signature's timestamp may be from the receiver's clock, seconds (default of {@link verifySignature}). */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`. */
export function sign(body: string, secret: string, timestampSeconds: number = Math.floor(Date.now() / 1000)): string {
  const t = Math.floor(timestampSeconds);
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

/**
 * Constant-time check of a received signature header against the raw body; false (never a throw)
 * for a missing, short or malformed header and for a timestamp more than `toleranceSeconds` away.
 * Several `v1=` entries (a secret being rotated) pass when any one matches.
 */
export function verifySignature(
  body: string,
  secret: string,
  header: string | undefined,
  options: { toleranceSeconds?: number; nowSeconds?: number } = {},
): boolean {
  if (typeof header !== 'string') return false;
  const parts = header.split(',').map((p) => p.trim().split('='));
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  const given = parts.filter(([k, v]) => k === 'v1' && v !== undefined && /^[0-9a-f]{64}$/.test(v)).map(([, v]) => Buffer.from(v!, 'hex'));
  if (!Number.isInteger(t) || given.length === 0) return false;
  const now = options.nowSeconds ?? Date.now() / 1000;
  if (Math.abs(now - t) > (options.toleranceSeconds ?? SIGNATURE_TOLERANCE_SECONDS)) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  return given.some((g) => g.length === expected.length && timingSafeEqual(g, expected));
}

/**
 * The HMAC key of the Standard Webhooks signature: a `whsec_<base64>` secret's decoded bytes, any other
 * secret's UTF-8 bytes (so a receiver given `whsec_` + base64 of the secret, or the `standardwebhooks`
 * library's `{ format: 'raw' }` for an ASCII secret, verifies it).
 */
export function webhookKey(secret: string): Buffer {
  return secret.startsWith(STANDARD_SECRET_PREFIX) ? Buffer.from(secret.slice(STANDARD_SECRET_PREFIX.length), 'base64') : Buffer.from(secret, 'utf8');
}

/** The secret as a receiver's Standard Webhooks library takes it: `whsec_<base64 of the key>`. */
export function standardSecret(secret: string): string {
  return `${STANDARD_SECRET_PREFIX}${webhookKey(secret).toString('base64')}`;
}

/** `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`: the Standard Webhooks signature. */
export function standardSignature(id: string, timestampSeconds: number, body: string, secret: string): string {
  const mac = createHmac('sha256', webhookKey(secret)).update(`${id}.${Math.floor(timestampSeconds)}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** A delivery that did not get a 2xx; retried with backoff by the notifications queue. */
export class WebhookDeliveryError extends RescreenError {
  override name = 'WebhookDeliveryError';
}

export interface DeliverOptions<E extends WebhookEvent = WebhookEvent> {
  readonly url: string;
  readonly secret: string | undefined;
  /** The event; its JSON is the body, its `event` the `x-rescreen-event` header. */
  readonly event: E;
  /** Unique per event and the same on each of its retries: `webhook-id` (the receiver de-duplicates on it). */
  readonly deliveryId: string;
  /** Also send the legacy `x-rescreen-signature` (default true). */
  readonly legacySignature?: boolean;
  readonly timeoutMs?: number;
  readonly dispatcher?: Dispatcher;
  /** This attempt's time, unix seconds (default now): `webhook-timestamp`. */
  readonly nowSeconds?: number;
}

/** The headers of one delivery attempt of `body` (exported for tests and for other transports). */
export function deliveryHeaders(options: {
  event: string;
  deliveryId: string;
  body: string;
  secret: string | undefined;
  legacySignature?: boolean;
  nowSeconds?: number;
}): Record<string, string> {
  const t = Math.floor(options.nowSeconds ?? Date.now() / 1000);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'rescreen-webhook',
    [EVENT_HEADER]: options.event,
    [DELIVERY_HEADER]: options.deliveryId,
    [WEBHOOK_ID_HEADER]: options.deliveryId,
    [WEBHOOK_TIMESTAMP_HEADER]: String(t),
  };
  if (options.secret !== undefined) {
    headers[WEBHOOK_SIGNATURE_HEADER] = standardSignature(options.deliveryId, t, options.body, options.secret);
    if (options.legacySignature ?? true) headers[SIGNATURE_HEADER] = sign(options.body, options.secret, t);
  }
  return headers;
}

/** POSTs one event once, whatever its type. Throws WebhookDeliveryError unless the receiver answers 2xx. */
export async function deliver<E extends WebhookEvent>(options: DeliverOptions<E>): Promise<void> {
  const body = JSON.stringify(options.event);
  const headers = deliveryHeaders({
    event: options.event.event,
    deliveryId: options.deliveryId,
    body,
    secret: options.secret,
    ...(options.legacySignature !== undefined ? { legacySignature: options.legacySignature } : {}),
    ...(options.nowSeconds !== undefined ? { nowSeconds: options.nowSeconds } : {}),
  });
  const timeoutMs = options.timeoutMs ?? 10_000;
  const where = new URL(options.url);
  const target = `${where.origin}${where.pathname}`; // no query string in messages: it may hold a token
  let status: number;
  try {
    const response = await request(options.url, {
      method: 'POST',
      headers,
      body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    });
    status = response.statusCode;
    await response.body.dump();
  } catch (error) {
    throw new WebhookDeliveryError(ErrorCodes.WEBHOOK_UNREACHABLE, `webhook ${target} did not answer: ${(error as Error).message}`, { cause: error });
  }
  if (status < 200 || status > 299) throw new WebhookDeliveryError(httpStatusCode(status), `webhook ${target} answered HTTP ${status}`);
}
