/** Small helpers for the simulator tests: requests with plain fetch, and shape comparison. */
import { SIM_CREDENTIALS } from '../../../src/simulator/options.js';

export const OOTO_AUTH: Record<string, string> = { 'APP-ID': SIM_CREDENTIALS.ooto.appId, 'APP-KEY': SIM_CREDENTIALS.ooto.appKey };
export const GLAIR_AUTH: Record<string, string> = {
  Authorization: `Basic ${Buffer.from(`${SIM_CREDENTIALS.glair.username}:${SIM_CREDENTIALS.glair.password}`).toString('base64')}`,
  'x-api-key': SIM_CREDENTIALS.glair.apiKey,
};

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  /** The parsed JSON body (null when empty), inspected freely by the tests. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test assertions walk arbitrary vendor JSON
  readonly json: any;
}

/** A multipart form with one file part. */
export function fileForm(field: string, bytes: Uint8Array, type = 'application/octet-stream', filename = 'upload.bin'): FormData {
  const form = new FormData();
  form.append(field, new Blob([new Uint8Array(bytes)], { type }), filename);
  return form;
}

export async function post(url: string, body: FormData | string | undefined, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Answer> {
  const init: RequestInit = { method: 'POST', headers: typeof body === 'string' ? { 'content-type': 'application/json', ...headers } : headers };
  if (body !== undefined) init.body = body;
  if (signal !== undefined) init.signal = signal;
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text === '' ? null : JSON.parse(text) };
}

/** The structure of a JSON value: object keys (in order), array lengths, primitive types. */
export function shapeOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shapeOf);
  if (value === null) return 'null';
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shapeOf(v)]));
  return typeof value;
}

/** Like shapeOf, but object keys sorted (for comparisons where order is not part of the contract). */
export function sortedShapeOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedShapeOf);
  if (value === null) return 'null';
  if (typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, sortedShapeOf(v)]),
    );
  }
  return typeof value;
}
