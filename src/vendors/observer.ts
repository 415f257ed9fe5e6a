/**
 * What the transport reports of every vendor call (quick retries included), for metrics: an injected
 * observer, so the vendor layer knows nothing of Prometheus. The check a call is made for is not the
 * transport's to know: the job runner names it for the calls made inside {@link withCallContext}.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Vendor } from '../checks/registry.js';

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

const context = new AsyncLocalStorage<{ readonly check: string }>();

/** Runs `fn` with `check` as the label of every vendor call it makes. */
export function withCallContext<T>(check: string, fn: () => T): T {
  return context.run({ check }, fn);
}

/** The check of the calls being made now, or `unknown`. */
export function currentCheck(): string {
  return context.getStore()?.check ?? 'unknown';
}

export function statusClassOf(status: number): StatusClass {
  if (status >= 500) return '5xx';
  if (status >= 400) return '4xx';
  if (status >= 300) return '3xx';
  return '2xx';
}
