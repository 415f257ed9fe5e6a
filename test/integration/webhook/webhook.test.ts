/**
 * Completion webhook: one signed POST per finished batch, retried with backoff when the receiver
 * fails, never twice for the same batch.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { standardSecret, verifySignature, type BatchFinishedEvent } from '../../../src/notify/webhook.js';
import { sampleJpeg } from '../../../src/simulator/sample-media.js';
import { runCli } from '../../helpers/cli.js';
import { STORE_KINDS, createHarness, eventually, type Harness } from '../../helpers/pipeline.js';

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly answered: number;
}

async function receiver(failFirst: number): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  let seen = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen += 1;
      const answered = seen <= failFirst ? 500 : 204;
      received.push({ headers: req.headers, body, answered });
      res.statusCode = answered;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/rescreen?token=abc`, received, server };
}

const SECRET = 'whsec_c2VjcmV0LWtleS1vZi10aGUtd2ViaG9vay10ZXN0';
let h: Harness | undefined;
let server: Server | undefined;
afterEach(async () => {
  vi.useRealTimers();
  await h?.close();
  await new Promise((r) => server?.close(r));
  h = undefined;
  server = undefined;
});

describe.each(STORE_KINDS)('completion webhook (%s store)', (store) => {
  it('POSTs one signed summary per finished batch, and a receiver that fails twice still gets it', async () => {
    const hook = await receiver(2);
    server = hook.server;
    h = await createHarness('hook', {}, { RESCREEN_WEBHOOK_URL: hook.url, RESCREEN_WEBHOOK_SECRET: SECRET }, { store });
    await h.file('a.jpg', sampleJpeg({ seed: 1 }));
    await h.file('b.jpg', sampleJpeg({ seed: 2, directives: 'noface' }));
    const manifest = await h.manifest('m.jsonl', [
      { ref: 'a.jpg', check: 'ooto-deepfake' },
      { ref: 'b.jpg', check: 'ooto-deepfake' },
      { ref: 'a.jpg', check: 'bogus' },
    ]);
    const first = await runCli(['run', manifest, '--batch', 'hook-1'], h.env);
    expect(first.code, first.stderr).toBe(0);
    expect((await runCli(['run', manifest, '--batch', 'hook-2'], h.env)).code).toBe(0);
    // Re-running a finished batch announces nothing again.
    expect((await runCli(['enqueue', manifest, '--batch', 'hook-1'], h.env)).code).toBe(0);
    expect((await runCli(['work', '--until-idle'], h.env)).code).toBe(0);

    await eventually(async () => hook.received.filter((r) => r.answered === 204).length, (n) => n >= 2, 20_000);
    const delivered = hook.received.filter((r) => r.answered === 204);
    expect(delivered).toHaveLength(2);
    expect(hook.received).toHaveLength(4); // two failures, then one delivery per batch
    // A receiver built only from `standardwebhooks` (and one from Svix's SDK) verifies every delivery.
    const standard = new Webhook(SECRET);
    const svix = new SvixWebhook(SECRET);
    const headersOf = (r: Received) => r.headers as Record<string, string>;
    for (const r of hook.received) {
      expect(standard.verify(r.body, headersOf(r))).toEqual(JSON.parse(r.body));
      expect(svix.verify(r.body, headersOf(r))).toEqual(JSON.parse(r.body));
      expect(r.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
      // A tampered body is refused by both.
      const tampered = r.body.replace(/"total":\d+/, '"total":1');
      expect(tampered).not.toBe(r.body);
      expect(() => standard.verify(tampered, headersOf(r))).toThrow(/No matching signature/);
      expect(() => svix.verify(tampered, headersOf(r))).toThrow();
      expect(() => new Webhook(standardSecret('another-secret')).verify(r.body, headersOf(r))).toThrow();
    }
    // Each event's webhook-id is the same on every attempt (its retries), and differs between events.
    expect(new Set(hook.received.map((r) => r.headers['webhook-id'])).size).toBe(2);
    for (const r of hook.received) expect(r.headers['webhook-id']).toBe(r.headers['x-rescreen-delivery']);
    // Ten minutes later the same deliveries are replays: refused.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 10 * 60_000);
    for (const r of hook.received) {
      expect(() => standard.verify(r.body, headersOf(r))).toThrow(/too old/);
      expect(() => svix.verify(r.body, headersOf(r))).toThrow();
    }
    vi.useRealTimers();
    for (const r of hook.received) {
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['x-rescreen-event']).toBe('batch.finished');
      expect(verifySignature(r.body, SECRET, r.headers['x-rescreen-signature'] as string)).toBe(true);
      expect(verifySignature(r.body, 'wrong-secret', r.headers['x-rescreen-signature'] as string)).toBe(false);
      expect(r.body).not.toContain(SECRET);
    }
    const events = delivered.map((r) => JSON.parse(r.body) as BatchFinishedEvent).sort((a, b) => a.batch.localeCompare(b.batch));
    expect(events.map((e) => e.batch)).toEqual(['hook-1', 'hook-2']);
    expect(events[0]).toMatchObject({
      event: 'batch.finished',
      total: 3,
      byStatus: { completed: 1, rejected: 1, failed: 1 },
    });
    expect(events[0]!.finishedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    // The counts of verdict changes ride along: the first screening of every subject is new.
    expect(events[0]!.changes).toMatchObject({ lines: 2, byKind: { new: 1, worse: 0, 'no-verdict': 1 } });
    // The same delivery id on every attempt of one batch, so a receiver can de-duplicate.
    const ids = new Set(hook.received.map((r) => r.headers['x-rescreen-delivery']));
    expect(ids.size).toBe(2);
    // A timestamped signature: t=<unix seconds>,v1=<hex>, within the few seconds of this test.
    for (const r of hook.received) {
      const m = /^t=(\d+),v1=[0-9a-f]{64}$/.exec(r.headers['x-rescreen-signature'] as string);
      expect(m).not.toBeNull();
      expect(Math.abs(Date.now() / 1000 - Number(m![1]))).toBeLessThan(120);
    }
    // The delivery log: both delivered, four attempts in all (two failed first).
    const listed = await runCli(['webhooks', '--json'], h.env);
    expect(listed.code, listed.stderr).toBe(0);
    const view = JSON.parse(listed.stdout) as { configured: boolean; counts: Record<string, number>; deliveries: { batch: string; state: string; attempts: number }[] };
    expect(view.configured).toBe(true);
    expect(view.counts).toEqual({ pending: 0, delivered: 2, failed: 0 });
    expect(view.deliveries.map((d) => d.batch).sort()).toEqual(['hook-1', 'hook-2']);
    expect(view.deliveries.reduce((n, d) => n + d.attempts, 0)).toBe(4);
    const text = await runCli(['webhooks'], h.env);
    expect(text.stdout).toContain('pending 0, delivered 2, failed 0');
    expect(text.stdout).toMatch(/hook-1\s+delivered/);
    expect(text.stdout).not.toContain('token=abc'); // the receiver URL's query string never shows
  });

  it('a receiver that never answers 2xx ends failed in the delivery log, with its last error', async () => {
    const hook = await receiver(1_000);
    server = hook.server;
    // A plain secret (its UTF-8 bytes are the key) and the legacy header turned off.
    const plain = 'plain-webhook-secret-1';
    h = await createHarness('hook-fail', {}, { RESCREEN_WEBHOOK_URL: hook.url, RESCREEN_WEBHOOK_ATTEMPTS: '2', RESCREEN_WEBHOOK_SECRET: plain, RESCREEN_WEBHOOK_LEGACY_SIGNATURE: 'false' });
    const manifest = await h.manifest('m.jsonl', ['nope']);
    expect((await runCli(['enqueue', manifest, '--batch', 'never'], h.env)).code).toBe(0);
    const pending = JSON.parse((await runCli(['webhooks', '--json'], h.env)).stdout) as { counts: Record<string, number> };
    expect(pending.counts).toEqual({ pending: 1, delivered: 0, failed: 0 });
    expect((await runCli(['work', '--until-idle'], h.env)).code).toBe(0);
    expect(hook.received).toHaveLength(2);
    for (const r of hook.received) {
      expect(r.headers['x-rescreen-signature']).toBeUndefined();
      expect(new Webhook(standardSecret(plain)).verify(r.body, r.headers as Record<string, string>)).toMatchObject({ batch: 'never' });
      expect(new Webhook(plain, { format: 'raw' }).verify(r.body, r.headers as Record<string, string>)).toMatchObject({ batch: 'never' });
    }
    expect(hook.received[0]!.headers['webhook-id']).toBe(hook.received[1]!.headers['webhook-id']);
    const listed = await runCli(['webhooks', '--state', 'failed', '--json'], h.env);
    const view = JSON.parse(listed.stdout) as { counts: Record<string, number>; deliveries: { batch: string; state: string; attempts: number; lastError: { code: string; message: string } }[] };
    expect(view.counts).toEqual({ pending: 0, delivered: 0, failed: 1 });
    expect(view.deliveries).toEqual([expect.objectContaining({ batch: 'never', state: 'failed', attempts: 2, lastError: { code: 'HTTP_500', message: expect.stringContaining('answered HTTP 500') } })]);
    expect(listed.stdout).not.toContain('token=abc');
    expect((await runCli(['webhooks', '--state', 'bogus'], h.env)).code).toBe(2);
  });

  it('a batch finished by the producer alone (every line invalid) is announced too', async () => {
    const hook = await receiver(0);
    server = hook.server;
    h = await createHarness('hook-invalid', {}, { RESCREEN_WEBHOOK_URL: hook.url }, { store });
    const manifest = await h.manifest('m.jsonl', [{ ref: 'a.jpg', check: 'bogus' }, 'nope']);
    expect((await runCli(['enqueue', manifest, '--batch', 'all-bad'], h.env)).code).toBe(0);
    expect((await runCli(['work', '--until-idle'], h.env)).code).toBe(0);
    expect(hook.received).toHaveLength(1);
    expect(JSON.parse(hook.received[0]!.body)).toMatchObject({ batch: 'all-bad', total: 2, byStatus: { failed: 2 } });
    expect(hook.received[0]!.headers['x-rescreen-signature']).toBeUndefined();
    expect(hook.received[0]!.headers['webhook-signature']).toBeUndefined();
    expect(hook.received[0]!.headers['webhook-id']).toBeDefined();
  });
});
