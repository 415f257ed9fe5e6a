/**
 * Money and budgets: a batch's --max-calls / --max-spend cap is enforced before each paid call,
 * atomically across worker processes (never passed by one call), and its remaining lines wait —
 * no attempt spent, no record — until the cap is raised.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { batchBudget, enqueueBatch } from '../../../src/app/index.js';
import { startWorkers, type Runtime, type WorkerHandle } from '../../../src/runtime/runtime.js';
import { sampleJpeg } from '../../../src/simulator/sample-media.js';
import { runCli } from '../../helpers/cli.js';
import { createHarness, eventually, type Harness } from '../../helpers/pipeline.js';

let h: Harness;
const pools: WorkerHandle[] = [];
const PRICES = { OOTO_PRICE_PER_CALL: '0.02', GLAIR_PRICE_PER_CALL: '0.05', RESCREEN_HELD_RECHECK_MS: '300' };

beforeEach(async () => {
  h = await createHarness('budget', { latencyMs: 30 }, PRICES);
});
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
  await h.close();
});

async function fortyLines(name: string): Promise<string> {
  for (let i = 1; i <= 40; i++) await h.file(`${name}/p${i}.jpg`, sampleJpeg({ seed: 1000 + i, directives: 'genuine' }));
  return h.manifest(`${name}.jsonl`, Array.from({ length: 40 }, (_, i) => ({ ref: `${name}/p${i + 1}.jpg`, check: 'ooto-deepfake', subject: `c${i}` })));
}

/** Three worker pools, each on its own connections, as three `rescreen work` processes would be. */
async function threeWorkers(): Promise<Runtime> {
  const runtimes = await Promise.all([h.openRuntime(), h.openRuntime(), h.openRuntime()]);
  for (const r of runtimes) pools.push(startWorkers(r, { concurrency: 8 }));
  return runtimes[0];
}

describe('batch budgets', () => {
  it('--max-calls 10 with three workers and 40 lines makes exactly 10 paid calls; raise lets the rest finish', async () => {
    const manifest = await fortyLines('calls');
    const runtime = await threeWorkers();
    await enqueueBatch(runtime, { manifest, batch: 'capped', maxCalls: 10 });
    const held = await eventually(
      async () => {
        const summary = (await runtime.store.summary('capped'))!;
        return { summary, budget: await batchBudget(runtime, summary) };
      },
      (s) => s.budget.held === 'calls' && s.summary.recorded === 10,
    );
    // A while later: still 10, whatever the three pools tried in between.
    await new Promise((r) => setTimeout(r, 1500));
    expect(h.sim.stats().totalCalls).toBe(10);
    expect((await runtime.store.summary('capped'))!.recorded).toBe(10);
    expect(held.budget).toMatchObject({ totalPaidCalls: 10, maxCalls: 10, budgetReached: true, spend: 200_000 });

    const status = await runCli(['status', 'capped'], h.env);
    expect(status.stdout).toContain('paid calls 10 (ooto 10, glair 0), spend USD 0.20; cap 10 calls (reached)\n');
    expect(status.stdout).toContain('waiting: budget reached: its lines wait (rescreen batch raise capped --max-calls N / --max-spend X)\n');

    const raised = await runCli(['batch', 'raise', 'capped', '--max-calls', '40'], h.env);
    expect(raised.code, raised.stderr).toBe(0);
    const done = await eventually(
      () => runtime.store.summary('capped'),
      (s) => s !== null && s.recorded === 40,
    );
    expect(done!.byStatus).toEqual({ completed: 40, rejected: 0, failed: 0 });
    // Every line was paid for once: waiting at the cap spent no attempt and no call.
    expect(h.sim.stats().totalCalls).toBe(40);
    const records = [];
    for await (const r of runtime.store.stream('capped')) records.push(r);
    expect(records.every((r) => r.attempts === 1)).toBe(true);
  });

  it('--max-spend stops at the price: 0.10 at 0.02 a call is 5 calls', async () => {
    const manifest = await fortyLines('spend');
    const runtime = await threeWorkers();
    await enqueueBatch(runtime, { manifest, batch: 'spend', maxSpend: '0.10' });
    await eventually(
      async () => batchBudget(runtime, (await runtime.store.summary('spend'))!),
      (b) => b.held === 'spend',
    );
    await new Promise((r) => setTimeout(r, 1000));
    expect(h.sim.stats().totalCalls).toBe(5);
    expect((await runtime.store.summary('spend'))!.recorded).toBe(5);
  });

  it('the dry run shows the cost; --max-spend without every price, or a bad amount, is refused', async () => {
    const manifest = await fortyLines('dry');
    const dry = await runCli(['enqueue', manifest, '--dry-run'], h.env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('cost: USD 0.80 (ooto USD 0.80, glair USD 0.00)');

    const { GLAIR_PRICE_PER_CALL: _, ...noGlairPrice } = h.env;
    const unpriced = await runCli(['enqueue', manifest, '--max-spend', '5'], noGlairPrice);
    expect(unpriced.code).toBe(2);
    expect(unpriced.stderr).toBe('rescreen: --max-spend needs a price for every vendor: set GLAIR_PRICE_PER_CALL (0 for a vendor you do not use)\n');
    const noPriceDry = await runCli(['enqueue', manifest, '--dry-run'], noGlairPrice);
    expect(noPriceDry.stdout).toContain('cost: USD 0.80 (ooto USD 0.80, glair USD 0.00)');
    const { OOTO_PRICE_PER_CALL: __, ...noOotoPrice } = h.env;
    expect((await runCli(['enqueue', manifest, '--dry-run'], noOotoPrice)).stdout).toContain('cost: unknown (ooto unknown (set OOTO_PRICE_PER_CALL), glair USD 0.00)');

    expect((await runCli(['enqueue', manifest, '--max-spend', '12,50'], h.env)).code).toBe(2);
    expect((await runCli(['enqueue', manifest, '--max-calls', '-3'], h.env)).code).toBe(2);
    const badPrice = await runCli(['enqueue', manifest, '--dry-run'], { ...h.env, OOTO_PRICE_PER_CALL: '2 cents' });
    expect(badPrice.code).toBe(2);
    expect(badPrice.stderr).toContain('OOTO_PRICE_PER_CALL');
    // Nothing was enqueued by the refused commands.
    expect(await runCli(['batches'], h.env)).toMatchObject({ stdout: 'no batches yet\n' });
    expect((await runCli(['batch', 'raise', 'nope', '--max-calls', '3'], h.env)).code).toBe(1);
  });
});
