/**
 * Test helpers for the vendor clients: a MockAgent with the network disabled, capture of intercepted
 * requests (headers normalised, multipart parsed), media fixtures and a credential leak check.
 */
import { inspect } from 'node:util';
import { MockAgent, Response, type FormData } from 'undici';
// undici's index does not re-export MockInterceptor's namespace types; the package has no exports map.
import type { MockInterceptor } from 'undici/types/mock-interceptor.js';
import { expect } from 'vitest';
import type { MediaBlob } from '../../../src/media/types.js';

export function createMockAgent(): MockAgent {
  const agent = new MockAgent();
  agent.disableNetConnect();
  return agent;
}

/** One intercepted request as the server would see it. */
export interface CapturedRequest {
  readonly method: string;
  readonly path: string;
  /** Lower-cased names. */
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

export function normaliseHeaders(raw: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw === undefined || raw === null) return out;
  if (Array.isArray(raw)) {
    for (let i = 0; i + 1 < raw.length; i += 2) out[String(raw[i]).toLowerCase()] = String(raw[i + 1]);
    return out;
  }
  if (typeof (raw as { forEach?: unknown }).forEach === 'function' && typeof (raw as { get?: unknown }).get === 'function') {
    (raw as { forEach(cb: (v: string, k: string) => void): void }).forEach((v, k) => {
      out[k.toLowerCase()] = v;
    });
    return out;
  }
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof v === 'string' || typeof v === 'number') out[k.toLowerCase()] = String(v);
    else if (Array.isArray(v)) out[k.toLowerCase()] = v.map(String).join(', ');
  }
  return out;
}

/** What a MockAgent reply callback receives. */
export type ReplyCallbackOptions = MockInterceptor.MockResponseCallbackOptions;

export function capture(opts: ReplyCallbackOptions): CapturedRequest {
  return { method: opts.method, path: opts.path, headers: normaliseHeaders(opts.headers), body: opts.body };
}

function isFormData(body: unknown): body is FormData {
  return typeof body === 'object' && body !== null && (body as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'FormData';
}

/** The multipart body of a captured request as FormData (as sent, or parsed from the raw bytes). */
export async function multipartOf(request: CapturedRequest): Promise<FormData> {
  if (isFormData(request.body)) {
    // Round-trip through a Response so the test sees what goes over the wire (boundary, parts).
    return new Response(request.body).formData();
  }
  const contentType = request.headers['content-type'];
  if (contentType === undefined) throw new Error('no content-type on a multipart request');
  return new Response(request.body as string | Uint8Array, { headers: { 'content-type': contentType } }).formData();
}

/** The text of a captured non-multipart body (string, Buffer or Uint8Array). */
export function textOf(request: CapturedRequest): string {
  const { body } = request;
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  throw new Error(`unexpected body type ${Object.prototype.toString.call(body)}`);
}

/** A file part: its name, type and bytes. */
export async function filePart(form: FormData, field: string): Promise<{ name: string; type: string; bytes: Buffer }> {
  const value = form.get(field);
  if (value === null || typeof value === 'string') throw new Error(`field ${field} is not a file`);
  return { name: value.name, type: value.type, bytes: Buffer.from(await value.arrayBuffer()) };
}

export const JSON_HEADERS = { 'content-type': 'application/json' } as const;

export const photo: MediaBlob = {
  bytes: Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0xff, 0xd9]),
  mime: 'image/jpeg',
  filename: 'selfie.jpg',
};

export const pngPhoto: MediaBlob = {
  bytes: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00]),
  mime: 'image/png',
  filename: 'frame.png',
};

export const video: MediaBlob = {
  bytes: Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypmp42'), Buffer.alloc(64, 7)]),
  mime: 'video/mp4',
  filename: 'liveness.mp4',
};

/** Catches the rejection of `promise` (fails the test when it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** Asserts that no secret appears in an error's message, JSON form, or inspected form (cause included). */
export function expectNoSecrets(error: unknown, secrets: readonly string[]): void {
  const views = [String(error), JSON.stringify(error), inspect(error, { depth: 8 })];
  if (error instanceof Error) views.push(error.message, error.stack ?? '');
  for (const secret of secrets) {
    for (const view of views) expect(view).not.toContain(secret);
  }
}

/** A canned vendor answer. */
export type Reply = { status: number; body?: string; headers?: Record<string, string> };

/**
 * Intercepts POSTs to any path of `origin`, capturing each request into `requests` and answering
 * `replies` in order (the last one repeats).
 */
export function serveReplies(agent: MockAgent, requests: CapturedRequest[], replies: readonly Reply[], origin: string): void {
  agent
    .get(origin)
    .intercept({ path: () => true, method: 'POST' })
    .reply((opts: ReplyCallbackOptions) => {
      requests.push(capture(opts));
      const reply = replies[Math.min(requests.length - 1, replies.length - 1)]!;
      return { statusCode: reply.status, data: reply.body ?? '', responseOptions: { headers: { ...JSON_HEADERS, ...reply.headers } } };
    })
    .persist();
}
