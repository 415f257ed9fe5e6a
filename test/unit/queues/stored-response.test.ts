/**
 * Issue 8, items 2 and 5: what a record keeps of a vendor's answer. A vendor error page that echoes
 * our request headers leaves no credential in any record; a huge answer is stored cut to the cap,
 * with the size and sha256 of the whole.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobPayload } from '../../../src/checks/types.js';
import { loadConfig } from '../../../src/runtime/built-ins.js';
import { runJob, type JobRunnerDeps } from '../../../src/queueing/job-runner.js';
import { storedResponse } from '../../../src/records/stored-response.js';
import { createProcessorDeps, redactor } from '../../../src/runtime/runtime.js';
import { sampleJpeg, sampleMp4 } from '../../../src/simulator/sample-media.js';
import { BUILT_INS } from '../../../src/runtime/built-ins.js';
import { MemoryStore } from '../../helpers/memory-store.js';
import { OOTO_DEEPFAKE_200 } from '../../fixtures/vendor-samples.js';

const SECRETS = {
  OOTO_APP_ID: 'ooto-id-echo-7f3a9c',
  OOTO_APP_KEY: 'ooto-key-echo-SECRET-5b2d',
  GLAIR_USERNAME: 'glair-user-echo-4c1d',
  GLAIR_PASSWORD: 'glair-pass-echo-SECRET-9e7f',
  GLAIR_API_KEY: 'glair-api-echo-SECRET-2a6b',
};
const BASIC = Buffer.from(`${SECRETS.GLAIR_USERNAME}:${SECRETS.GLAIR_PASSWORD}`).toString('base64');

/** What the vendor stand-in does with the next request. */
let reply: (req: IncomingMessage, res: ServerResponse) => void;
let server: Server;
let base: string;
let dir: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => reply(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = await mkdtemp(join(tmpdir(), 'rescreen-stored-'));
  await writeFile(join(dir, 'a.jpg'), sampleJpeg({ seed: 1 }));
  await writeFile(join(dir, 'v.mp4'), sampleMp4({ seed: 2 }));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

function setUp(env: Record<string, string> = {}): { deps: JobRunnerDeps; store: MemoryStore; close: () => Promise<void> } {
  const config = loadConfig({ ...SECRETS, OOTO_BASE_URL: base, GLAIR_BASE_URL: base, RESCREEN_CALL_RETRIES: '0', ...env });
  const processorDeps = createProcessorDeps(config);
  const store = new MemoryStore();
  const deps: JobRunnerDeps = {
    store,
    checks: BUILT_INS.checks,
    depsFor: processorDeps.depsFor,
    maxRateLimited: 5,
    rateLimitBackoff: { baseMs: 1, maxMs: 1 },
    redact: redactor(config),
    maxResponseBytes: config.maxResponseBytes,
  };
  return { deps, store, close: () => processorDeps.close() };
}

const line = (n: number, check: JobPayload['check'], ref: string): JobPayload => ({ batch: 'echo', line: n, check, subject: null, ref, baseDir: dir });

describe('stored vendor answers', () => {
  it('a 500 that echoes the request headers leaves no secret in the record (item 2)', async () => {
    reply = (req, res) => {
      const body = JSON.stringify({ error: 'boom', echoed: req.headers, [`key-${String(req.headers['app-key'])}`]: 1 });
      res.writeHead(500, { 'content-type': 'application/json', 'request-id': 'req-echo' }).end(body);
    };
    const { deps, store, close } = setUp();
    try {
      await runJob({ payload: line(1, 'ooto-deepfake', 'a.jpg'), attempt: 1, maxAttempts: 1 }, deps);
      await runJob({ payload: line(2, 'glair-video', 'v.mp4'), attempt: 1, maxAttempts: 1 }, deps);
    } finally {
      await close();
    }
    const records = [await store.get('echo', 1), await store.get('echo', 2)];
    for (const record of records) {
      expect(record).toMatchObject({ status: 'failed', error: { code: 'HTTP_500' } });
      const text = JSON.stringify(record);
      expect(text).toContain('[redacted]'); // the echo was there, and was cleaned
      for (const secret of [...Object.values(SECRETS), BASIC]) expect(text).not.toContain(secret);
    }
    expect((records[1]!.response as { echoed: { authorization: string } }).echoed.authorization).toBe('[redacted]');
  });

  it('a 900 KiB answer is stored cut to RESCREEN_MAX_RESPONSE_BYTES, with its size and sha256 (item 5)', async () => {
    const answer = JSON.parse(OOTO_DEEPFAKE_200) as Record<string, unknown>;
    // Far over the stored copy's 64 KiB, under RESCREEN_MAX_ANSWER_BYTES (1 MiB): read whole.
    answer.debug = 'x'.repeat(900 * 1024);
    const body = JSON.stringify(answer);
    reply = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    const { deps, store, close } = setUp();
    try {
      await runJob({ payload: line(3, 'ooto-deepfake', 'a.jpg'), attempt: 1, maxAttempts: 1 }, deps);
    } finally {
      await close();
    }
    const record = await store.get('echo', 3);
    // Read in full: the verdict comes from the whole answer.
    expect(record).toMatchObject({ status: 'completed', verdict: 'genuine', transactionId: '2f679199-aafe-4b05-a722-728615b6aca2' });
    expect(record?.responseTruncated).toBe(true);
    const full = JSON.stringify(answer);
    expect(record?.responseBytes).toBe(Buffer.byteLength(full));
    expect(record?.responseSha256).toBe(createHash('sha256').update(full).digest('hex'));
    expect(typeof record?.response).toBe('string');
    expect(Buffer.byteLength(JSON.stringify(record!.response))).toBeLessThanOrEqual(65_536);
    expect(Buffer.byteLength(JSON.stringify(record))).toBeLessThan(70_000);
  });

  it('small answers are kept as they are; the cut never splits a character', () => {
    const redact = (t: string) => t;
    expect(storedResponse({ a: 1 }, redact, 1000)).toEqual({ response: { a: 1 } });
    expect(storedResponse(null, redact, 1000)).toEqual({ response: null });
    const cut = storedResponse({ text: 'é'.repeat(1000) }, redact, 301);
    expect(cut.responseTruncated).toBe(true);
    expect(cut.response as string).not.toContain('\uFFFD');
    expect(Buffer.byteLength(JSON.stringify(cut.response))).toBeLessThanOrEqual(301);
    // Quotes double when the cut is stored as a JSON string: still within the cap.
    const quoted = storedResponse({ q: '"'.repeat(5000) }, redact, 1000);
    expect(Buffer.byteLength(JSON.stringify(quoted.response))).toBeLessThanOrEqual(1000);
    expect((quoted.response as string).length).toBeGreaterThan(400);
  });
});
