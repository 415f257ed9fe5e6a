/**
 * Issue 16, what a new user meets at the edges of the command line: `status --watch` on a batch
 * that cannot move (paused, at its cap) says so instead of showing a rate and an ETA; a second
 * SIGTERM cuts a worker's shutdown short (130); a store that does not answer exits 2.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sampleJpeg } from '../../../src/simulator/sample-media.js';
import { runCli, startCli, startCliInPty } from '../../helpers/cli.js';
import { createHarness, eventually, type Harness } from '../../helpers/pipeline.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** `n` lines on media that is never read (no worker runs in these tests). */
async function manifestOf(harness: Harness, n: number): Promise<string> {
  return harness.manifest('m.jsonl', Array.from({ length: n }, (_, i) => ({ ref: `m/${i}.jpg`, check: 'ooto-deepfake' })));
}

describe('status --watch on a batch that cannot move', () => {
  it('paused: the plain line says paused and how to resume, no rate or ETA; Ctrl-C exits 130', async () => {
    h = await createHarness('watch-paused');
    const manifest = await manifestOf(h, 5);
    expect((await runCli(['enqueue', manifest, '--batch', 'wp'], h.env)).code).toBe(0);
    expect((await runCli(['batch', 'pause', 'wp'], h.env)).code).toBe(0);
    const watch = startCli(['status', 'wp', '--watch'], h.env);
    await eventually(async () => watch.output().stdout, (out) => out.includes('batch wp: 0/5'), 20_000);
    watch.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => watch.on('close', (c) => resolve(c)));
    const { stdout } = watch.output();
    expect(code, stdout).toBe(130);
    const line = stdout.split('\n').find((l) => l.startsWith('batch wp: 0/5'));
    expect(line).toBe('batch wp: 0/5 (0%) paused (rescreen batch resume wp) — completed 0, rejected 0, failed 0');
    expect(stdout).not.toMatch(/\/s ETA/);
  });

  it('at its cap, on a terminal: the bar says at its cap and how to raise it, no rate or ETA', async () => {
    h = await createHarness('watch-cap');
    const manifest = await manifestOf(h, 4);
    expect((await runCli(['enqueue', manifest, '--batch', 'wc', '--max-calls', '0'], h.env)).code).toBe(0);
    const watch = startCliInPty(['status', 'wc', '--watch'], h.env);
    await eventually(async () => watch.output(), (out) => out.includes('0/4'), 20_000);
    watch.ctrlC();
    const { code } = await watch.exited;
    const out = watch.output();
    expect(code, out).toBe(130);
    expect(out).toMatch(/0% \| 0\/4 \| at its cap \(rescreen batch raise wc\) \| completed 0/);
    expect(out).not.toMatch(/ETA/);
  });
});

describe('a result store that does not answer', () => {
  it('exits 2 with one line naming the store (not 1), for a command and for db migrate, password kept out', async () => {
    h = await createHarness('store-down');
    // Nothing listens on port 1: the connection is refused at once.
    const env = { ...h.env, RESCREEN_STORE_URL: 'postgres://rescreen:hunter2@127.0.0.1:1/rescreen' };
    for (const args of [['status', 'x'], ['batches'], ['db', 'migrate']]) {
      const run = await runCli(args, env);
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(/^rescreen: the result store at postgres:\/\/rescreen:\*\*\*@127\.0\.0\.1:1\/rescreen cannot be used: .*RESCREEN_STORE_URL/);
      expect(run.stderr).not.toContain('hunter2');
    }
  });
});

describe('a second SIGTERM', () => {
  it('cuts the shutdown of work short: exit 130 at once, without waiting for the calls in flight', async () => {
    h = await createHarness('term-twice', { latencyMs: 8_000 });
    await h.file('a.jpg', sampleJpeg({ seed: 1 }));
    const manifest = await h.manifest('m.jsonl', Array.from({ length: 4 }, () => ({ ref: 'a.jpg', check: 'ooto-deepfake' })));
    expect((await runCli(['enqueue', manifest, '--batch', 'tt'], h.env)).code).toBe(0);
    const worker = startCli(['work', '--concurrency', '2'], h.env);
    const closed = new Promise<number | null>((resolve) => worker.on('close', (c) => resolve(c)));
    await eventually(async () => h!.sim.stats().totalCalls, (n) => n >= 1, 20_000);
    worker.kill('SIGTERM');
    await eventually(async () => worker.output().stderr, (err) => err.includes('shutting down'), 10_000);
    worker.kill('SIGTERM');
    const started = Date.now();
    expect(await closed, worker.output().stderr).toBe(130);
    // The calls in flight take 8 s: the second signal did not wait for them.
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(worker.output().stderr).toContain('rescreen: SIGTERM again: exiting now');
  });
});
