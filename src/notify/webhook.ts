/**
 * The completion webhook: one POST per finished batch, its JSON summary signed with HMAC-SHA256.
 *
 * Receivers verify `X-Rescreen-Signature: t=<unix seconds>,v1=<hex>`, where the hex is
 * HMAC-SHA256(secret, `${t}.${raw body}`), with a constant-time comparison, and refuse a `t` too far
 * from their clock (a replay): {@link verifySignature} shows how (as Stripe's and Persona's do).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { request, type Dispatcher } from 'undici';
import { ErrorCodes, RescreenError } from '../errors/errors.js';
import { httpStatusCode } from '../errors/http-failure.js';
import type { ChangeCounts } from '../history/changes.js';
import type { DriftSummary } from '../drift/report.js';
import type { BatchSummary } from '../store/types.js';

export const SIGNATURE_HEADER = 'x-rescreen-signature';
export const EVENT_HEADER = 'x-rescreen-event';
export const DELIVERY_HEADER = 'x-rescreen-delivery';
export const BATCH_FINISHED = 'batch.finished';
/** A review case opened (src/review): body `{event, case}`. */
export const CASE_OPENED = 'case.opened';
/** A decision on a review case: body `{event, case, decision}`. */
export const CASE_DECIDED = 'case.decided';
export type WebhookEvent = typeof BATCH_FINISHED | typeof CASE_OPENED | typeof CASE_DECIDED;

/** The body of a `batch.finished` POST. */
export interface BatchFinishedEvent {
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

/** A delivery that did not get a 2xx; retried with backoff by the notifications queue. */
export class WebhookDeliveryError extends RescreenError {
  override name = 'WebhookDeliveryError';
}

export interface DeliverOptions {
  readonly url: string;
  readonly secret: string | undefined;
  readonly body: string;
  /** Unique per event (the receiver can de-duplicate on it). */
  readonly deliveryId: string;
  /** The `X-Rescreen-Event` header; default `batch.finished`. */
  readonly event?: WebhookEvent;
  readonly timeoutMs?: number;
  readonly dispatcher?: Dispatcher;
}

/** POSTs once. Throws WebhookDeliveryError unless the receiver answers 2xx. */
export async function deliver(options: DeliverOptions): Promise<void> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'rescreen-webhook',
    [EVENT_HEADER]: options.event ?? BATCH_FINISHED,
    [DELIVERY_HEADER]: options.deliveryId,
  };
  if (options.secret !== undefined) headers[SIGNATURE_HEADER] = sign(options.body, options.secret);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const where = new URL(options.url);
  const target = `${where.origin}${where.pathname}`; // no query string in messages: it may hold a token
  let status: number;
  try {
    const response = await request(options.url, {
      method: 'POST',
      headers,
      body: options.body,
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
