/**
 * Issue 8, item 4: retries do not multiply paid calls. One bound on vendor calls per line over all
 * BullMQ attempts and quick in-call retries (RESCREEN_MAX_CALLS_PER_LINE); quick retries only for
 * requests that never reached the vendor; calls sent without an answer counted as possibly billed.
 */
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ResultRecord } from '../../../src/checks/types.js';
import { enqueueManifest } from '../../../src/queueing/producer.js';
import { startWorkers, type Runtime } from '../../../src/runtime/runtime.js';
import { sampleJpeg } from '../../../src/simulator/sample-media.js';
import { runCli } from '../../helpers/cli.js';
import { createHarness, eventually, type Harness } from '../../helpers/pipeline.js';
import { startVendorStandIn, type VendorStandIn } from '../../helpers/vendor-stand-in.js';

let h: Harness | undefined;
let standIn: VendorStandIn | undefined;
afterEach(async () => {
  await standIn?.close();
  await h?.close();
  h = undefined;
  standIn = undefined;
});

/** Generous attempts and quick retries: the old code made attempts × (retries + 1) = 15 calls a line. */
const MANY_RETRIES = { RESCREEN_ATTEMPTS: '5', RESCREEN_CALL_RETRIES: '2', RESCREEN_MAX_CALLS_PER_LINE: '3', RESCREEN_REQUEST_TIMEOUT_MS: '300' };

async function runToEnd(runtime: Runtime, manifest: string, batch: string): Promise<ResultRecord[]> {
  await enqueueManifest({ manifestPath: manifest, batch, queues: runtime.queues, checks: runtime.checks, store: runtime.store });
  const workers = startWorkers(runtime);
  try {
    await eventually(() => runtime.store.summary(batch), (s) => s !== null && s.producerDone && s.recorded >= s.total, 45_000);
  } finally {
    await workers.close();
  }
  const out: ResultRecord[] = [];
  for await (const r of runtime.store.stream(batch)) out.push(r);
  return out;
}

describe('the per-line vendor call budget', () => {
  // A reset before any answer byte is the vendor's gateway, not the line's: see ../outage/vendor-storm.test.ts.
  it.each(['times out', 'resets mid-answer'] as const)('a line whose vendor %s makes at most RESCREEN_MAX_CALLS_PER_LINE calls, all counted as possibly billed', async (kind) => {
    standIn = kind === 'times out' ? undefined : await startVendorStandIn();
    standIn?.cutAnswers('ooto');
    h = await createHarness(`budget-${kind.split(' ')[0]}`, { failureRate: 1, failureKinds: ['timeout'] }, { ...MANY_RETRIES, ...(standIn ? { OOTO_BASE_URL: standIn.url } : {}) });
    const runtime = await h.openRuntime();
    await h.file('a.jpg', sampleJpeg({ seed: 1 }));
    const manifest = await h.manifest('m.jsonl', [{ ref: 'a.jpg', check: 'ooto-deepfake' }]);
    const [record] = await runToEnd(runtime, manifest, 'budget');

    expect(standIn ? standIn.calls().length : h.sim.stats().totalCalls).toBe(3);
    // The cause of the last call is the code; the budget that stopped the retries is stoppedBy.
    expect(record).toMatchObject({ status: 'failed', possiblyBilled: 3, stoppedBy: 'call-budget', error: { code: kind === 'times out' ? 'VENDOR_TIMEOUT' : 'VENDOR_CONNECTION' } });
    expect(record!.error!.message).toContain('RESCREEN_MAX_CALLS_PER_LINE=3');
    expect(record!.attempts).toBe(3);
    expect(await runtime.store.summary('budget')).toMatchObject({ possiblyBilled: 3 });

    // `status` says it too.
    const status = await runCli(['status', 'budget'], h.env);
    expect(status.stdout).toMatch(/billing\s+3 vendor calls sent without an answer \(timeout, reset\): possibly billed/);
    expect(status.stdout).toContain(`failed by  ${kind === 'times out' ? 'VENDOR_TIMEOUT' : 'VENDOR_CONNECTION'} 1 (stopped by call-budget)`);
  });

  it('a request that never reached the vendor is retried in the call and costs nothing, attempts included', async () => {
    // A closed port: every connect is refused, nothing is ever sent.
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const address = s.address();
        s.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    // A breaker that never opens (as when the vendor answers every other line): the line backs off
    // on its own, spending no attempt, 5 times; then it is retried as any transient failure.
    const breaker = { RESCREEN_BREAKER_FAILURES: '1000', RESCREEN_BREAKER_BASE_MS: '50' };
    h = await createHarness('budget-refused', {}, { ...MANY_RETRIES, ...breaker, OOTO_BASE_URL: `http://127.0.0.1:${port}` });
    const runtime = await h.openRuntime();
    await h.file('a.jpg', sampleJpeg({ seed: 1 }));
    const manifest = await h.manifest('m.jsonl', [{ ref: 'a.jpg', check: 'ooto-deepfake' }]);
    const [record] = await runToEnd(runtime, manifest, 'refused');
    // Every attempt ran (5), the budget was never touched, nothing possibly billed.
    expect(record).toMatchObject({ status: 'failed', attempts: 5, stoppedBy: 'attempts', error: { code: 'VENDOR_CONNECTION' } });
    expect(record!.possiblyBilled).toBeUndefined();
    expect((await runtime.store.summary('refused'))?.possiblyBilled).toBeUndefined();
  });

  it('a flaky vendor still ends completed within the budget; a retry run gets a fresh budget', async () => {
    h = await createHarness('budget-flaky', {}, MANY_RETRIES);
    const runtime = await h.openRuntime();
    await h.file('a.jpg', sampleJpeg({ seed: 1 }));
    const manifest = await h.manifest('m.jsonl', [{ ref: 'a.jpg', check: 'ooto-deepfake' }]);
    h.sim.failNext(1, 'timeout', 'ooto');
    h.sim.failNext(1, '503', 'ooto');
    const [record] = await runToEnd(runtime, manifest, 'flaky');
    // The 503 is the vendor's gateway: it cost no attempt (nor any of the budget).
    expect(record).toMatchObject({ status: 'completed', possiblyBilled: 1, attempts: 2 });
    expect(h.sim.stats().totalCalls).toBe(3);

    // Used up, then `rescreen retry`: the new run may make its own calls.
    h.sim.resetStats();
    h.sim.configure({ failureRate: 1, failureKinds: ['500'] });
    const [failed] = await runToEnd(runtime, manifest, 'flaky-2');
    expect(failed).toMatchObject({ status: 'failed', stoppedBy: 'call-budget', error: { code: 'HTTP_500' } });
    expect(h.sim.stats().totalCalls).toBe(3);
    h.sim.configure({ failureRate: 0 });
    expect((await runCli(['retry', 'flaky-2'], h.env)).code).toBe(0);
    const workers = startWorkers(runtime);
    try {
      await eventually(() => runtime.store.summary('flaky-2'), (s) => s?.byStatus.completed === 1, 30_000);
    } finally {
      await workers.close();
    }
    expect(h.sim.stats().totalCalls).toBe(4);
  });
});
