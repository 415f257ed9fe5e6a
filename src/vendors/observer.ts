/**
 * What the transport reports of every vendor call (quick retries included), for metrics: an injected
 * observer, so the vendor layer knows nothing of Prometheus. The check a call is made for, and the
 * job's hooks around it (budget, batch gate), are not the transport's to know: the job runner sets
 * them for the calls made inside {@link withCallContext}.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Vendor } from './types.js';

/** `2xx`…`5xx` for an HTTP answer (a 429 is `4xx` and also `rateLimited`); `timeout` / `connection` for no answer. */
export type StatusClass = '2xx' | '3xx' | '4xx' | '5xx' | 'timeout' | 'connection';

export interface VendorCallEvent {
  readonly vendor: Vendor;
  /** The check the call was made for; `unknown` outside a job (e.g. a direct client call). */
  readonly check: string;
  readonly statusClass: StatusClass;
  /** True for an HTTP 429. */
  readonly rateLimited: boolean;
  /** From sending to the whole answer (or the failure), seconds. */
  readonly seconds: number;
}

export interface CallObserver {
  vendorCall(event: VendorCallEvent): void;
}

/**
 * One vendor call as its job sees it (a client method; its quick in-call retries included): the
 * job's word on it at the moment it would leave, and its cost once it failed.
 */
export interface PaidCall {
  /**
   * Called by the transport after the quota permit, right before each try is sent; throws (a
   * BatchHeldError, BatchCancelledError, CallBudgetExhaustedError) to send nothing — the transport
   * then gives the permit back.
   */
  beforeSend(): Promise<void>;
  /** Called once when the call failed (after its quick retries), with the error it throws. */
  failed(error: unknown): Promise<void>;
}

/** What a job hooks into the vendor calls it makes (the call budget and the batch's gate). */
export interface CallHooks {
  /** Opens one vendor call of `vendor`. */
  open(vendor: Vendor): PaidCall;
}

const context = new AsyncLocalStorage<{ readonly check: string; readonly hooks: CallHooks | undefined }>();

/** Runs `fn` with `check` as the label of every vendor call it makes, and `hooks` around each of them. */
export function withCallContext<T>(check: string, fn: () => T, hooks?: CallHooks): T {
  return context.run({ check, hooks }, fn);
}

/** The check of the calls being made now, or `unknown`. */
export function currentCheck(): string {
  return context.getStore()?.check ?? 'unknown';
}

/** The hooks of the job making calls now; none outside a job (e.g. a direct client call). */
export function currentCallHooks(): CallHooks | undefined {
  return context.getStore()?.hooks;
}

export function statusClassOf(status: number): StatusClass {
  if (status >= 500) return '5xx';
  if (status >= 400) return '4xx';
  if (status >= 300) return '3xx';
  return '2xx';
}
