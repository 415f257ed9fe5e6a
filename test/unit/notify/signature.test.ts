/**
 * Webhook signatures `t=…,v1=…`: ours (src/notify/webhook.ts) and the README's receiver snippet,
 * run as written, agree; neither throws on a missing, short, malformed or replayed header.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sign, verifySignature } from '../../../src/notify/webhook.js';

type Verify = (rawBody: string, header: unknown, secret: string, toleranceSeconds?: number) => boolean;
const SECRET = 'whsec-unit-9a8b7c';
const BODY = '{"event":"batch.finished","batch":"q3"}';
let dir: string;
let snippet: Verify;

beforeAll(async () => {
  const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
  const code = /<!-- webhook-verify-snippet -->\s*```js\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code, 'README has the snippet after its marker').toBeDefined();
  dir = await mkdtemp(join(tmpdir(), 'rescreen-snippet-'));
  await writeFile(join(dir, 'verify.mjs'), code!);
  snippet = ((await import(pathToFileURL(join(dir, 'verify.mjs')).href)) as { verifyRescreenSignature: Verify }).verifyRescreenSignature;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const now = () => Math.floor(Date.now() / 1000);
const ours: Verify = (body, header, secret, toleranceSeconds) => verifySignature(body, secret, header as string | undefined, toleranceSeconds === undefined ? {} : { toleranceSeconds });

describe.each([
  ['src/notify verifySignature', () => ours],
  ['the README snippet', () => snippet],
])('%s', (_name, get) => {
  it('accepts a fresh signature of the raw body, and one of several v1 entries (secret rotation)', () => {
    const verify = get();
    const header = sign(BODY, SECRET);
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verify(BODY, header, SECRET)).toBe(true);
    const other = sign(BODY, 'old-secret', now()).split(',')[1];
    expect(verify(BODY, `${header},${other}`, SECRET)).toBe(true);
    expect(verify(BODY, `${header.split(',')[0]},${other},${header.split(',')[1]}`, SECRET)).toBe(true);
  });

  it('refuses a wrong secret, a changed body, a replay, and never throws on a bad header', () => {
    const verify = get();
    const header = sign(BODY, SECRET);
    expect(verify(BODY, header, 'wrong')).toBe(false);
    expect(verify(`${BODY} `, header, SECRET)).toBe(false);
    expect(verify(BODY, sign(BODY, SECRET, now() - 3600), SECRET)).toBe(false);
    expect(verify(BODY, sign(BODY, SECRET, now() - 3600), SECRET, 7200)).toBe(true);
    expect(verify(BODY, sign(BODY, SECRET, now() + 3600), SECRET)).toBe(false);
    const v1 = header.split(',')[1]!;
    for (const bad of [undefined, null, '', 't=', 'v1=', ',', '=', 'nonsense', header.split(',')[0], v1, `t=abc,${v1}`, `t=1.5,${v1}`, `${header.slice(0, -2)}`, `${header}00`, `t=${now()},v1=${'z'.repeat(64)}`, `sha256=${'a'.repeat(64)}`, ['a', 'b'], 42]) {
      expect(() => verify(BODY, bad, SECRET)).not.toThrow();
      expect(verify(BODY, bad, SECRET)).toBe(false);
    }
  });
});
