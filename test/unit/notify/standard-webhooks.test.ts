/**
 * Standard Webhooks signatures (src/notify/webhook.ts): the `standardwebhooks` library and Svix's
 * verifier accept what rescreen signs, with a `whsec_` secret and with a plain one (its UTF-8 bytes);
 * the README's receiver snippet, run as written, accepts them and refuses a changed body, an old
 * timestamp and a wrong secret.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Webhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveryHeaders, standardSecret, standardSignature, verifySignature, webhookKey } from '../../../src/notify/webhook.js';

const WHSEC = 'whsec_MfKQ9r8GKYqrTAjSGs5K9J0p7kW6gQy2';
const PLAIN = 'plain-secret-7c1d9e';
const BODY = '{"event":"batch.finished","batch":"q3","total":2}';
const now = () => Math.floor(Date.now() / 1000);
type Receive = (rawBody: string, headers: Record<string, string>, secret?: string) => unknown;
let dir: string;
let readmeReceiver: Receive;

beforeAll(async () => {
  const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
  const code = /<!-- standard-webhooks-receiver -->\s*```js\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code, 'README has the receiver after its marker').toBeDefined();
  // Inside the project, so its `import … from 'standardwebhooks'` resolves as in a receiver's project.
  const cache = new URL('../../../node_modules/.cache/', import.meta.url);
  await mkdir(cache, { recursive: true });
  dir = await mkdtemp(join(cache.pathname, 'rescreen-receiver-'));
  await writeFile(join(dir, 'receiver.mjs'), code!);
  readmeReceiver = ((await import(pathToFileURL(join(dir, 'receiver.mjs')).href)) as { verifyRescreenWebhook: Receive }).verifyRescreenWebhook;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Standard Webhooks signature', () => {
  it('is v1,<base64 HMAC-SHA256 of id.timestamp.body> keyed by the decoded whsec_ secret', () => {
    const headers = deliveryHeaders({ event: 'batch.finished', deliveryId: 'finished-q3', body: BODY, secret: WHSEC, nowSeconds: 1_764_593_701 });
    expect(headers['webhook-id']).toBe('finished-q3');
    expect(headers['webhook-timestamp']).toBe('1764593701');
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(headers['webhook-signature']).toBe(new Webhook(WHSEC).sign('finished-q3', new Date(1_764_593_701_000), BODY));
    // The legacy header rides along with the same timestamp, unless turned off.
    expect(headers['x-rescreen-signature']).toMatch(/^t=1764593701,v1=[0-9a-f]{64}$/);
    expect(verifySignature(BODY, WHSEC, headers['x-rescreen-signature'], { nowSeconds: 1_764_593_701 })).toBe(true);
    const modern = deliveryHeaders({ event: 'batch.finished', deliveryId: 'x', body: BODY, secret: WHSEC, legacySignature: false });
    expect(modern['x-rescreen-signature']).toBeUndefined();
    expect(modern['webhook-signature']).toBeDefined();
    // No secret: no signature at all, the id and timestamp still go.
    const unsigned = deliveryHeaders({ event: 'batch.finished', deliveryId: 'x', body: BODY, secret: undefined });
    expect(unsigned['webhook-signature']).toBeUndefined();
    expect(unsigned['x-rescreen-signature']).toBeUndefined();
    expect(unsigned['webhook-id']).toBe('x');
  });

  it('a plain secret is its UTF-8 bytes: whsec_ + base64 of them, or format raw, verifies', () => {
    expect(webhookKey(PLAIN).toString('utf8')).toBe(PLAIN);
    expect(standardSecret(PLAIN)).toBe(`whsec_${Buffer.from(PLAIN).toString('base64')}`);
    expect(standardSecret(WHSEC)).toBe(WHSEC); // a whsec_ secret is given to receivers as it is
    expect(webhookKey(WHSEC)).toEqual(Buffer.from(WHSEC.slice(6), 'base64'));
    const headers = deliveryHeaders({ event: 'batch.finished', deliveryId: 'd-1', body: BODY, secret: PLAIN });
    expect(new Webhook(standardSecret(PLAIN)).verify(BODY, headers)).toEqual(JSON.parse(BODY));
    expect(new Webhook(PLAIN, { format: 'raw' }).verify(BODY, headers)).toEqual(JSON.parse(BODY));
    expect(() => new Webhook(WHSEC).verify(BODY, headers)).toThrow(/No matching signature/);
  });

  describe.each([
    ['standardwebhooks', (secret: string): Receive => (body, headers) => new Webhook(secret).verify(body, headers)],
    ['svix', (secret: string): Receive => (body, headers) => new SvixWebhook(secret).verify(body, headers)],
    ['the README receiver', (secret: string): Receive => (body, headers) => readmeReceiver(body, headers, secret)],
  ])('%s', (_name, verifierFor) => {
    it.each([WHSEC, PLAIN])('verifies rescreen\'s signature (secret %s), refuses a tampered body, an old timestamp, a wrong secret', (secret) => {
      const receive = verifierFor(standardSecret(secret));
      const headers = deliveryHeaders({ event: 'batch.finished', deliveryId: 'finished-q3', body: BODY, secret });
      expect(receive(BODY, headers)).toEqual(JSON.parse(BODY));
      expect(() => receive(BODY.replace('"total":2', '"total":3'), headers)).toThrow();
      const old = deliveryHeaders({ event: 'batch.finished', deliveryId: 'finished-q3', body: BODY, secret, nowSeconds: now() - 600 });
      expect(() => receive(BODY, old)).toThrow(/too old/);
      expect(() => receive(BODY, { ...headers, 'webhook-id': 'another' })).toThrow();
      expect(() => verifierFor(standardSecret('whsec_' + Buffer.alloc(24, 7).toString('base64')))(BODY, headers)).toThrow();
    });
  });

  it('standardSignature agrees with the library for any id, time and body', () => {
    for (const [id, t, body] of [['a', 1, ''], ['msg_2Lh9', 1_900_000_000, '{"é":"ü"}'], ['finished-q3#1', 42, 'x'.repeat(10_000)]] as const) {
      expect(standardSignature(id, t, body, WHSEC)).toBe(new Webhook(WHSEC).sign(id, new Date(t * 1000), body));
    }
  });
});
