/**
 * Issue 8, items 1 and 8: a producer whose Redis dies mid-way says so and exits instead of hanging;
 * a worker whose vendor has jobs and no credentials stops at start-up, before any vendor call.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { pingRedis } from '../../../src/redis/locate.js';
import { sampleJpeg } from '../../../src/simulator/sample-media.js';
import { realClockEnv, runCli, startCli } from '../../helpers/cli.js';
import { createHarness, type Harness } from '../../helpers/pipeline.js';

let h: Harness | undefined;
const servers: ChildProcess[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) if (s.exitCode === null && s.signalCode === null) s.kill('SIGKILL');
  await h?.close();
  h = undefined;
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** A private redis-server on `port`, nothing on disk; resolves once it answers. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], {
    stdio: 'ignore',
    env: realClockEnv(),
  });
  servers.push(child);
  for (let i = 0; i < 100; i++) {
    if (await pingRedis(`redis://127.0.0.1:${port}`, 300)) return child;
    await sleep(50);
  }
  throw new Error('redis-server did not start');
}

describe('Redis dies mid-enqueue (item 1)', () => {
  it('exits 2 within 15 s with one line naming Redis; re-running once Redis is back completes', async () => {
    h = await createHarness('redis-dies');
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const redis = await startRedis(port);
    const lines = Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ ref: `m/${i}.jpg`, check: 'ooto-deepfake' })).join('\n');
    const manifest = join(h.dir, 'big.jsonl');
    await writeFile(manifest, `${lines}\n`);
    const env = { ...h.env, REDIS_URL: url, LOG_LEVEL: 'warn' };

    const enq = startCli(['enqueue', manifest, '--batch', 'dies'], env);
    const exited = new Promise<number | null>((resolve) => enq.on('close', (code) => resolve(code)));
    // Kill Redis as soon as the first jobs have landed: mid-way through the 20,000 lines.
    const probe = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    probe.on('error', () => undefined);
    await probe.connect();
    for (;;) {
      // Jobs carry a priority (enqueue --priority): they wait in the prioritized set.
      if ((await probe.llen(`${h.prefix}:ooto:wait`)) + (await probe.zcard(`${h.prefix}:ooto:prioritized`)) > 0) break;
      await sleep(5);
    }
    probe.disconnect();
    redis.kill('SIGKILL');
    const killedAt = Date.now();

    const code = await exited;
    const { stdout, stderr } = enq.output();
    expect(code, stderr).toBe(2);
    expect(Date.now() - killedAt).toBeLessThan(15_000);
    expect(stdout).not.toMatch(/enqueued 20000/);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/^rescreen: lost the connection to Redis at redis:\/\/127\.0\.0\.1:\d+/);

    await startRedis(port);
    const again = await runCli(['enqueue', manifest, '--batch', 'dies'], env, 60_000);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('20000 lines: enqueued 20000');
  });
});

describe('a Redis frozen with SIGSTOP (issue 16, item 8)', () => {
  /** Runs a one-shot command; its exit code, its stderr lines and how long it took. */
  async function timed(args: string[], env: Record<string, string>) {
    const started = Date.now();
    const run = await runCli(args, env, 60_000);
    return { ...run, ms: Date.now() - started, lines: run.stderr.trim().split('\n') };
  }

  it('one-shot commands give up within 15 s with one line naming Redis, exit 2: frozen before they start', async () => {
    h = await createHarness('redis-frozen');
    const port = await freePort();
    const redis = await startRedis(port);
    const manifest = await h.manifest('m.jsonl', [{ ref: 'a.jpg', check: 'ooto-deepfake' }]);
    const env = { ...h.env, REDIS_URL: `redis://127.0.0.1:${port}`, LOG_LEVEL: 'warn' };
    redis.kill('SIGSTOP');
    try {
      for (const args of [['enqueue', manifest, '--batch', 'frozen'], ['status', 'frozen'], ['results', 'frozen']]) {
        const run = await timed(args, env);
        expect(run.code, `${args[0]}: ${run.stderr}`).toBe(2);
        expect(run.ms, args[0]).toBeLessThan(15_000);
        expect(run.lines, args[0]).toHaveLength(1);
        expect(run.stderr).toMatch(new RegExp(`^rescreen: cannot reach Redis at redis://127\\.0\\.0\\.1:${port}`));
      }
    } finally {
      redis.kill('SIGCONT');
    }
  });

  it('frozen mid-enqueue: gives up within 15 s with one line naming Redis, exit 2; once thawed, the same enqueue completes', async () => {
    h = await createHarness('redis-freezes');
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const redis = await startRedis(port);
    const lines = Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ ref: `m/${i}.jpg`, check: 'ooto-deepfake' })).join('\n');
    const manifest = join(h.dir, 'big.jsonl');
    await writeFile(manifest, `${lines}\n`);
    const env = { ...h.env, REDIS_URL: url, LOG_LEVEL: 'warn' };

    const enq = startCli(['enqueue', manifest, '--batch', 'freezes'], env);
    const exited = new Promise<number | null>((resolve) => enq.on('close', (code) => resolve(code)));
    const probe = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    probe.on('error', () => undefined);
    await probe.connect();
    for (;;) {
      if ((await probe.zcard(`${h.prefix}:ooto:prioritized`)) + (await probe.llen(`${h.prefix}:ooto:wait`)) > 0) break;
      await sleep(5);
    }
    probe.disconnect();
    redis.kill('SIGSTOP');
    const frozenAt = Date.now();
    try {
      const code = await exited;
      const { stdout, stderr } = enq.output();
      expect(code, stderr).toBe(2);
      expect(Date.now() - frozenAt).toBeLessThan(15_000);
      expect(stdout).not.toMatch(/enqueued 20000/);
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toMatch(/^rescreen: Redis at redis:\/\/127\.0\.0\.1:\d+\/? stopped answering \(no reply for \d+ s/);
    } finally {
      redis.kill('SIGCONT');
    }
    const again = await runCli(['enqueue', manifest, '--batch', 'freezes'], env, 60_000);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/20000 lines: enqueued \d+, already recorded 0, already queued \d+/);
    const check = new Redis(url);
    try {
      expect((await check.zcard(`${h.prefix}:ooto:prioritized`)) + (await check.llen(`${h.prefix}:ooto:wait`))).toBe(20_000);
    } finally {
      check.disconnect();
    }
  });
});

describe('missing credentials (item 8)', () => {
  /** The harness environment without one vendor's credentials. */
  function without(env: Record<string, string>, names: readonly string[]): Record<string, string> {
    return Object.fromEntries(Object.entries(env).filter(([name]) => !names.includes(name)));
  }

  it('a vendor with jobs and no credentials is a start-up error naming the variables, before any call', async () => {
    h = await createHarness('nocreds');
    await h.file('a.jpg', sampleJpeg({ seed: 1 }));
    const manifest = await h.manifest('m.jsonl', [{ ref: 'a.jpg', check: 'ooto-deepfake' }]);
    // A real (non-loopback) vendor URL: no simulator convenience. Nothing may call it.
    const env = { ...without(h.env, ['OOTO_APP_ID', 'OOTO_APP_KEY']), OOTO_BASE_URL: 'http://192.0.2.1:9' };
    expect((await runCli(['enqueue', manifest, '--batch', 'nc'], env)).code).toBe(0);

    const work = await runCli(['work', '--until-idle'], env);
    expect(work.code).toBe(2);
    expect(work.stderr).toMatch(/^rescreen: OOTO_APP_ID and OOTO_APP_KEY are not set: OOTO has jobs to do \(1 queued\)/);
    const run = await runCli(['run', manifest, '--batch', 'nc2'], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('OOTO_APP_ID and OOTO_APP_KEY are not set');

    const runtime = await h.openRuntime();
    const waiting = await runtime.queues.ooto!.getJobs(['wait', 'prioritized']);
    expect(waiting.length).toBe(2);
    expect(waiting.every((j) => j.attemptsMade === 0)).toBe(true);
    expect(await runtime.store.summary('nc')).toMatchObject({ recorded: 0 });

    // GLAIR without credentials but with nothing to do: left out with a warning, the OOTO work goes on.
    const glairless = without(h.env, ['GLAIR_USERNAME', 'GLAIR_PASSWORD', 'GLAIR_API_KEY']);
    const ok = await runCli(['work', '--until-idle'], { ...glairless, GLAIR_BASE_URL: 'https://api.vision.glair.ai', LOG_LEVEL: 'warn' });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toContain('GLAIR_USERNAME, GLAIR_PASSWORD and GLAIR_API_KEY are not set: not working for GLAIR');
    expect(await runtime.store.summary('nc')).toMatchObject({ recorded: 1, byStatus: { completed: 1 } });
  });

  it('a loopback base URL that is not the simulator, no credentials: exit 2 naming every variable of both vendors, no vendor call', async () => {
    // A local egress proxy, say: a plain HTTP server on 127.0.0.1 that records what reaches it.
    const seen: { method: string; url: string; credentialed: boolean }[] = [];
    const proxy = createHttpServer((req, res) => {
      const credentialed = ['app-id', 'app-key', 'authorization', 'x-api-key'].some((name) => req.headers[name] !== undefined);
      seen.push({ method: req.method ?? '', url: req.url ?? '', credentialed });
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not here"}');
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      h = await createHarness('not-sim');
      const base = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const env = {
        ...without(h.env, ['OOTO_APP_ID', 'OOTO_APP_KEY', 'GLAIR_USERNAME', 'GLAIR_PASSWORD', 'GLAIR_API_KEY']),
        OOTO_BASE_URL: base,
        GLAIR_BASE_URL: base,
      };
      const manifest = await h.manifest('m.jsonl', [
        { ref: 'a.jpg', check: 'ooto-deepfake' },
        { ref: 'b.mp4', check: 'glair-video' },
      ]);
      expect((await runCli(['enqueue', manifest, '--batch', 'ns'], env)).code).toBe(0);
      seen.length = 0;

      const work = await runCli(['work', '--until-idle'], env);
      expect(work.code, work.stderr).toBe(2);
      const lines = work.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      for (const variable of ['OOTO_APP_ID', 'OOTO_APP_KEY', 'GLAIR_USERNAME', 'GLAIR_PASSWORD', 'GLAIR_API_KEY']) expect(lines[0]).toContain(variable);
      expect(lines[0]).toContain(`OOTO_BASE_URL ${base} does not answer as the rescreen simulator`);
      // At most the identity question (one GET, no credential); no vendor call.
      expect(seen.filter((r) => r.url !== '/__sim/identity')).toEqual([]);
      expect(seen.length).toBeLessThanOrEqual(1);
      expect(seen.every((r) => r.method === 'GET' && !r.credentialed)).toBe(true);

      const run = await runCli(['run', manifest, '--batch', 'ns2'], env);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain('GLAIR_USERNAME, GLAIR_PASSWORD and GLAIR_API_KEY are not set');
      expect(seen.filter((r) => r.url !== '/__sim/identity')).toEqual([]);

      // RESCREEN_SIMULATOR_CREDENTIALS=0: not even the question.
      seen.length = 0;
      const never = await runCli(['work', '--until-idle'], { ...env, RESCREEN_SIMULATOR_CREDENTIALS: '0' });
      expect(never.code, never.stderr).toBe(2);
      expect(seen).toEqual([]);
      const runtime = await h.openRuntime();
      expect(await runtime.store.summary('ns')).toMatchObject({ recorded: 0 });
    } finally {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
  });

  it('against a loopback simulator, unset credentials default to the simulator test credentials', async () => {
    h = await createHarness('simcreds');
    await h.file('a.jpg', sampleJpeg({ seed: 1 }));
    const manifest = await h.manifest('m.jsonl', [{ ref: 'a.jpg', check: 'ooto-deepfake' }]);
    const env = without(h.env, ['OOTO_APP_ID', 'OOTO_APP_KEY', 'GLAIR_USERNAME', 'GLAIR_PASSWORD', 'GLAIR_API_KEY']);
    const run = await runCli(['run', manifest, '--batch', 'sc'], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/completed 1, rejected 0, failed 0/);
  });
});
