/**
 * Issue 8, item 3: media URLs cannot be pointed at internal hosts — not directly, not through DNS,
 * not through a redirect — unless the operator allows it; and a refused ref costs no vendor call.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/runtime/built-ins.js';
import { ErrorCodes, MediaUnavailableError } from '../../../src/errors/errors.js';
import { isBlockedAddress, isLoopbackHost } from '../../../src/media/host-policy.js';
import { createMediaLoader } from '../../../src/media/loader.js';
import { runJob } from '../../../src/queueing/job-runner.js';
import { createProcessorDeps, redactor } from '../../../src/runtime/runtime.js';
import { sampleJpeg } from '../../../src/simulator/sample-media.js';
import { startSimulator, type Simulator } from '../../../src/simulator/server.js';
import { BUILT_INS } from '../../../src/runtime/built-ins.js';
import { MemoryStore } from '../../helpers/memory-store.js';

const photo = sampleJpeg({ seed: 1, directives: 'genuine' });
let server: Server;
let port: number;
let base: string;
const requests: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    switch (req.url ?? '') {
      case '/a.jpg':
        res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(photo.length) });
        res.end(photo);
        return;
      case '/to-localhost': // a name that resolves to loopback: caught at connect time
        res.writeHead(302, { location: `http://localhost:${port}/a.jpg` }).end();
        return;
      case '/to-metadata': // a stand-in for the cloud metadata service
        res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/iam' }).end();
        return;
      case '/loop':
        res.writeHead(302, { location: '/loop' }).end();
        return;
      default:
        res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function refusal(promise: Promise<unknown>): Promise<MediaUnavailableError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MediaUnavailableError);
  return error as MediaUnavailableError;
}

describe('media host policy', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['10.1.2.3', true],
    ['172.16.0.1', true],
    ['172.31.255.255', true],
    ['192.168.1.1', true],
    ['169.254.169.254', true],
    ['100.64.0.1', true],
    ['0.0.0.0', true],
    ['::1', true],
    ['::', true],
    ['fd00:ec2::254', true],
    ['fe80::1', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:a9fe:a9fe', true],
    ['[::ffff:7f00:1]', true],
    ['8.8.8.8', false],
    ['172.32.0.1', false],
    ['2606:4700:4700::1111', false],
    ['::ffff:8.8.8.8', false],
  ])('%s blocked: %s', (address, blocked) => {
    expect(isBlockedAddress(address)).toBe(blocked);
  });

  it('knows loopback hosts (the simulator convenience)', () => {
    expect(['localhost', '127.0.0.1', '[::1]', '127.1.2.3'].map(isLoopbackHost)).toEqual([true, true, true, true]);
    expect(['example.com', '10.0.0.1', 'localhost.example.com'].map(isLoopbackHost)).toEqual([false, false, false]);
  });

  it('refuses private literals, a name resolving to loopback, and a redirect to either', async () => {
    const strict = createMediaLoader();
    const direct = await refusal(strict.loadPhoto(`${base}/a.jpg`, '/'));
    expect(direct.code).toBe(ErrorCodes.MEDIA_HOST_REFUSED);
    expect(direct.message).toContain('RESCREEN_MEDIA_ALLOW_HOSTS');
    for (const url of [`http://localhost:${port}/a.jpg`, `http://[::ffff:127.0.0.1]:${port}/a.jpg`, `http://0.0.0.0:${port}/a.jpg`, `http://2130706433:${port}/a.jpg`]) {
      expect((await refusal(strict.loadPhoto(url, '/'))).code, url).toBe(ErrorCodes.MEDIA_HOST_REFUSED);
    }
    expect(requests).toEqual([]); // not one request reached the server

    // 127.0.0.1 allowed by name: the server is reached, but its redirects to other internal hosts are not followed.
    const allowed = createMediaLoader({ hostPolicy: { allowHosts: ['127.0.0.1'], allowPrivate: false } });
    expect((await allowed.loadPhoto(`${base}/a.jpg`, '/')).mime).toBe('image/jpeg');
    const viaDns = await refusal(allowed.loadPhoto(`${base}/to-localhost`, '/'));
    expect(viaDns.code).toBe(ErrorCodes.MEDIA_HOST_REFUSED);
    expect(viaDns.message).toMatch(/localhost resolves to (127\.0\.0\.1|::1)/);
    const meta = await refusal(allowed.loadPhoto(`${base}/to-metadata`, '/'));
    expect(meta.code).toBe(ErrorCodes.MEDIA_HOST_REFUSED);
    expect(meta.message).toContain('after 1 redirect');
    expect(requests).toEqual(['/a.jpg', '/to-localhost', '/to-metadata']);

    // Redirects are capped.
    const loop = await refusal(allowed.loadPhoto(`${base}/loop`, '/'));
    expect(loop.code).toBe(ErrorCodes.MEDIA_UNREADABLE);
    expect(loop.message).toContain('more than 3 redirects');

    // RESCREEN_MEDIA_ALLOW_PRIVATE=true: anything goes.
    const open = createMediaLoader({ hostPolicy: { allowHosts: [], allowPrivate: true } });
    expect((await open.loadPhoto(`${base}/to-localhost`, '/')).mime).toBe('image/jpeg');
  });

  it('holds on a dispatcher the caller gives too (its own Agent has no guarded connect)', async () => {
    requests.length = 0;
    const agent = new Agent({ keepAliveTimeout: 1_000 });
    try {
      const strict = createMediaLoader({ dispatcher: agent });
      // A name that resolves to loopback: refused before any request, whatever the agent would connect to.
      const viaName = await refusal(strict.loadPhoto(`http://localhost:${port}/a.jpg`, '/'));
      expect(viaName.code).toBe(ErrorCodes.MEDIA_HOST_REFUSED);
      expect(viaName.message).toMatch(/localhost resolves to (127\.0\.0\.1|::1)/);
      expect((await refusal(strict.loadPhoto(`${base}/a.jpg`, '/'))).code).toBe(ErrorCodes.MEDIA_HOST_REFUSED);
      expect(requests).toEqual([]);

      // Allowed by name: reached through the caller's agent; a redirect to a name resolving to loopback is not followed.
      const allowed = createMediaLoader({ dispatcher: agent, hostPolicy: { allowHosts: ['localhost', '127.0.0.1'], allowPrivate: false } });
      expect((await allowed.loadPhoto(`http://localhost:${port}/a.jpg`, '/')).mime).toBe('image/jpeg');
      const onlyIp = createMediaLoader({ dispatcher: agent, hostPolicy: { allowHosts: ['127.0.0.1'], allowPrivate: false } });
      expect((await refusal(onlyIp.loadPhoto(`${base}/to-localhost`, '/'))).code).toBe(ErrorCodes.MEDIA_HOST_REFUSED);
      expect(requests).toEqual(['/a.jpg', '/to-localhost']);
    } finally {
      await agent.close();
    }
  });

  it('a refused ref ends failed with MEDIA_HOST_REFUSED and makes no vendor call', async () => {
    const sim: Simulator = await startSimulator();
    try {
      const config = loadConfig({ OOTO_BASE_URL: sim.url, RESCREEN_MEDIA_ALLOW_HOSTS: '127.0.0.1', RESCREEN_CALL_RETRIES: '0' });
      expect(config.mediaHosts).toEqual({ allowHosts: ['127.0.0.1'], allowPrivate: false });
      const processorDeps = createProcessorDeps(config);
      const store = new MemoryStore();
      const payload = { batch: 'ssrf', line: 1, check: 'ooto-deepfake' as const, subject: null, ref: `${base}/to-metadata`, baseDir: '/' };
      const step = await runJob(
        { payload, attempt: 1, maxAttempts: 5 },
        { store, checks: BUILT_INS.checks, depsFor: processorDeps.depsFor, maxRateLimited: 5, rateLimitBackoff: { baseMs: 1, maxMs: 1 }, redact: redactor(config) },
      );
      await processorDeps.close();
      expect(step.kind).toBe('recorded');
      expect(await store.get('ssrf', 1)).toMatchObject({ status: 'failed', transactionId: null, error: { code: 'MEDIA_HOST_REFUSED' } });
      expect(sim.stats().totalCalls).toBe(0);
    } finally {
      await sim.close();
    }
  });
});
