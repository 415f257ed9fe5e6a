/**
 * Issue 16, item 2 (its failure-rate guard): `--max-failure-rate 10% --failure-window 20` pauses a
 * batch whose lines fail on the vendor's side, for the whole fleet, once more than 2 of its last 20
 * finished lines failed — so a misconfiguration does not pay for every line — with the reason in
 * `status` and one log line; `batch resume` goes on with a fresh window. Lines the vendor answers,
 * and lines refused locally, never trip it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Logger } from 'pino';
import { createRescreen } from '../../../src/api/index.js';
import type { ResultRecord } from '../../../src/checks/types.js';
import { ConnectionError } from '../../../src/errors/errors.js';
import { callsKey } from '../../../src/redis/keys.js';
import { readBatchState } from '../../../src/money/batch-terms.js';
import { FailureRateGuard, setFailureGuard } from '../../../src/money/failure-guard.js';
import { sampleJpeg } from '../../../src/simulator/sample-media.js';
import { runCli, startCli } from '../../helpers/cli.js';
import { createHarness, eventually, sha256, type Harness } from '../../helpers/pipeline.js';
import { startTestServer } from '../../helpers/server.js';

let h: Harness;
/** Media whose calls the vendor fails (HTTP 500), by sha256. */
const failing = new Set<string>();

beforeEach(async () => {
  failing.clear();
  h = await createHarness(
    'guard',
    { latencyMs: 20, script: { callFor: (sha) => (failing.has(sha) ? { failure: { kind: '500' } } : undefined) } },
    // One call a line: a failing line ends at once (HTTP_500, stoppedBy call-budget).
    { RESCREEN_MAX_CALLS_PER_LINE: '1', RESCREEN_CONCURRENCY: '4', RESCREEN_HELD_RECHECK_MS: '300' },
  );
});
afterEach(async () => {
  await h.close();
});

/** A manifest of `n` photos; `fail(i)` says which lines' media the vendor fails (and `missing(i)` which are not there). */
async function manifest(name: string, n: number, fail: (i: number) => boolean, missing: (i: number) => boolean = () => false): Promise<string> {
  const lines = [];
  for (let i = 1; i <= n; i++) {
    const bytes = sampleJpeg({ seed: name.length * 1000 + i });
    if (fail(i)) failing.add(sha256(bytes));
    if (!missing(i)) await h.file(`${name}/p${i}.jpg`, bytes);
    lines.push({ ref: `${name}/p${i}.jpg`, check: 'ooto-deepfake', subject: `${name}-${i}` });
  }
  return h.manifest(`${name}.jsonl`, lines);
}

async function workUntilIdle(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = startCli(['work', '--until-idle'], env);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, ...child.output() };
}

describe('the failure-rate guard', () => {
  it('pauses a batch whose lines mostly fail, fleet-wide, says why in status and once in the log; resume goes on', async () => {
    const m = await manifest('bad', 60, (i) => i % 5 !== 0); // 4 of 5 lines fail
    const enqueued = await runCli(['enqueue', m, '--batch', 'bad', '--max-failure-rate', '10%', '--failure-window', '20'], h.env);
    expect(enqueued.code, enqueued.stderr).toBe(0);

    // Two worker processes count into the one window.
    const env = { ...h.env, LOG_LEVEL: 'error' };
    const [a, b] = await Promise.all([workUntilIdle(env), workUntilIdle(env)]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    // Both say what waits, and why.
    for (const w of [a, b]) expect(w.stderr).toMatch(/rescreen: batch bad was paused by its failure-rate guard \(--max-failure-rate: too many lines failed\): \d+ lines wait \(rescreen batch resume bad\)/);
    const logs = `${a.stderr}\n${b.stderr}`.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; batch?: string; failed?: number; seen?: number; code?: string });
    const trips = logs.filter((l) => l.msg.startsWith('batch bad paused by its failure-rate guard'));
    expect(trips).toHaveLength(1);
    expect(trips[0]).toMatchObject({ batch: 'bad', failed: 3, code: 'HTTP_500' });

    // Far fewer lines than the batch were paid for: the trip, plus what was in flight (2 × 4 jobs).
    const summary = (await (await h.openRuntime()).store.summary('bad'))!;
    expect(summary.recorded).toBeLessThan(30);
    expect(h.sim.stats().totalCalls).toBeLessThanOrEqual(summary.recorded);
    const status = await runCli(['status', 'bad'], h.env);
    expect(status.stdout).toMatch(
      /waiting: paused by its failure-rate guard: 3 of its last \d+ finished lines failed on the vendor's side \(more than --max-failure-rate 10% of 20\), the last HTTP_500; its lines wait \(fix the cause, then rescreen batch resume bad\)\n/,
    );
    expect(status.stdout).toMatch(/guard {6}--max-failure-rate 10% of the last 20 finished lines: \d+ failed of the last \d+\n/);

    // The vendor is fixed; resume starts a fresh window and the batch finishes.
    failing.clear();
    const resumed = await runCli(['batch', 'resume', 'bad'], h.env);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect((await workUntilIdle(h.env)).code).toBe(0);
    const done = await eventually(() => runCli(['status', 'bad'], h.env), (s) => /recorded\s+60 \(0 to go\)/.test(s.stdout));
    expect(done.stdout).not.toMatch(/waiting: paused/);
    expect(done.stdout).toMatch(/guard {6}--max-failure-rate 10% of the last 20 finished lines: 0 failed of the last 20\n/);
    expect(done.stdout).toMatch(new RegExp(`failed by  HTTP_500 ${summary.byStatus.failed} \\(stopped by call-budget\\)`));
  });

  it('counts only the vendor\'s failures: lines refused locally never trip it, failures within the rate do not', async () => {
    // Lines 1–20 are missing media (never the vendor's); lines 21–45 reach the vendor, which fails
    // line 30 (late enough that the missing ones are done, early enough that the batch cannot finish).
    const m = await manifest('fine', 45, (i) => i === 30, (i) => i <= 20);
    const enqueued = await runCli(['enqueue', m, '--batch', 'fine', '--max-failure-rate', '0%', '--failure-window', '20'], h.env);
    expect(enqueued.code, enqueued.stderr).toBe(0);
    // 0 %: the first vendor failure pauses the batch; the 20 missing files before it did not.
    const first = await workUntilIdle(h.env);
    expect(first.code, first.stderr).toBe(0);
    const runtime = await h.openRuntime();
    const s = (await runtime.store.summary('fine'))!;
    expect(s.recorded).toBeLessThan(45);
    expect(s.failures?.find((f) => f.code === 'MEDIA_NOT_FOUND')?.count).toBe(20);
    expect(s.failures?.find((f) => f.code === 'HTTP_500')?.count).toBe(1);
    // Line 30 paused it: the only vendor failure; the 20 local ones did not count.
    expect((await runCli(['status', 'fine'], h.env)).stdout).toContain('waiting: paused by its failure-rate guard: 1 of its last');

    const ok = await manifest('ok', 25, (i) => i === 7);
    expect((await runCli(['enqueue', ok, '--batch', 'ok', '--max-failure-rate', '10%', '--failure-window', '20'], h.env)).code).toBe(0);
    expect((await workUntilIdle(h.env)).code).toBe(0);
    const status = await runCli(['status', 'ok'], h.env);
    expect(status.stdout).toMatch(/recorded\s+25 \(0 to go\)/);
    expect(status.stdout).not.toContain('paused');
    expect(status.stdout).toContain('failed by  HTTP_500 1 (stopped by call-budget)');
  });

  it('every surface takes it and keeps it with the batch: the programmatic API, the HTTP API, rescreen run', async () => {
    const m = await manifest('s', 2, () => false);
    const rescreen = await createRescreen({ env: h.env });
    try {
      await rescreen.enqueue(m, { batch: 'via-api', maxFailureRate: '2.5%', failureWindow: 40 });
      expect((await rescreen.status('via-api')).budget.failureGuard).toEqual({ ratePpm: 25_000, window: 40, failed: 0, seen: 0 });
      await expect(rescreen.enqueue(m, { batch: 'via-api-bad', maxFailureRate: 'many' })).rejects.toThrow(/--max-failure-rate/);
    } finally {
      await rescreen.close();
    }
    const s = await startTestServer(h, { RESCREEN_API_TOKENS: 'ops:operator:op-token-2b7d9e1f3a5c4d60' });
    try {
      const headers = { authorization: 'Bearer op-token-2b7d9e1f3a5c4d60', 'content-type': 'application/x-ndjson' };
      const payload = `${JSON.stringify({ ref: 'p1.jpg', check: 'ooto-deepfake' })}\n`;
      const res = await s.app.inject({ method: 'POST', url: '/api/batches?batch=via-http&maxFailureRate=5%25&failureWindow=50', headers, payload });
      expect(res.statusCode, res.body).toBe(202);
      const view = (await s.app.inject({ url: '/api/batches/via-http', headers })).json<{ budget: { failureGuard: unknown } }>();
      expect(view.budget.failureGuard).toEqual({ ratePpm: 50_000, window: 50, failed: 0, seen: 0 });
      const bad = await s.app.inject({ method: 'POST', url: '/api/batches?batch=via-http-2&maxFailureRate=lots', headers, payload });
      expect(bad.statusCode).toBe(400);
    } finally {
      await s.close();
    }
    // `run` takes it too; a batch whose lines all complete finishes under its guard.
    const run = await runCli(['run', m, '--batch', 'via-run', '--max-failure-rate', '5%'], h.env);
    expect(run.code, run.stderr).toBe(0);
    expect((await runCli(['status', 'via-run'], h.env)).stdout).toContain('guard      --max-failure-rate 5% of the last 100 finished lines: 0 failed of the last 2\n');
  });

  it('counts over a rolling window: failures that left the window no longer count; resume and a new window start afresh', async () => {
    const runtime = await h.openRuntime();
    const logs: unknown[] = [];
    const log = { error: (o: unknown) => logs.push(o), warn: () => undefined } as unknown as Logger;
    const guard = new FailureRateGuard(runtime.redis, h.prefix, log);
    const key = callsKey(h.prefix, 'w');
    const state = () => readBatchState(runtime.redis, key);
    const line = (status: 'completed' | 'failed', n: number) =>
      guard.observe({ batch: 'w', line: n, status, error: status === 'failed' ? { code: 'HTTP_500', message: 'm' } : null } as ResultRecord, status === 'failed' ? new ConnectionError('ooto', 'x') : null);
    // 20 % of 5: one failure in the last 5 lines is tolerated, a second is not.
    await setFailureGuard(runtime.redis, key, { ratePpm: 200_000, window: 5 });
    let n = 0;
    for (const status of ['failed', 'completed', 'completed', 'completed', 'completed', 'failed'] as const) await line(status, ++n);
    expect(await state()).toBe('running'); // the first failure left the window as the sixth line came in
    await line('completed', ++n);
    await line('failed', ++n);
    expect(await state()).toBe('paused');
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ batch: 'w', failed: 2, seen: 5, ratePpm: 200_000, window: 5, code: 'HTTP_500' });
    // Lines finishing while it is paused do not trip it again.
    await line('failed', ++n);
    expect(logs).toHaveLength(1);
    // `batch resume` starts a fresh window: one failure is tolerated again, a second is not.
    await runtime.store.beginBatch('w', null);
    const resumed = await runCli(['batch', 'resume', 'w'], h.env);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(await state()).toBe('running');
    await line('failed', ++n);
    expect(await state()).toBe('running');
    // A later enqueue with another window starts afresh too.
    await setFailureGuard(runtime.redis, key, { ratePpm: 200_000, window: 10 });
    await line('failed', ++n);
    await line('failed', ++n);
    expect(await state()).toBe('running'); // 2 of 10 is not more than 20 %
    await line('failed', ++n);
    expect(await state()).toBe('paused');
    expect(logs).toHaveLength(2);
  });

  it('refuses a rate or a window it cannot use, naming the flag', async () => {
    const m = await manifest('x', 1, () => false);
    for (const [args, message] of [
      [['--max-failure-rate', '150%'], /--max-failure-rate must be a percentage/],
      [['--max-failure-rate', 'lots'], /--max-failure-rate must be a percentage/],
      [['--failure-window', '50'], /--failure-window goes with --max-failure-rate/],
      [['--max-failure-rate', '5%', '--failure-window', '100000'], /--failure-window must be a whole number of lines from 1 to 10000/],
    ] as const) {
      const r = await runCli(['enqueue', m, '--batch', 'x', ...args], h.env);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });
});
