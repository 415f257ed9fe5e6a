/**
 * The batch owns its money and its store, with real `rescreen` processes: `--max-calls` caps paid
 * calls whether or not prices are set; a worker without (or with other) price variables cannot
 * loosen `--max-spend`; a worker on another result store leaves the batch's jobs alone; and
 * `status` warns of paid calls whose answers went to another store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { callsKey } from '../../../src/redis/keys.js';
import type { ResultRecord } from '../../../src/checks/types.js';
import type { Runtime } from '../../../src/runtime/runtime.js';
import { sampleJpeg } from '../../../src/simulator/sample-media.js';
import { runCli } from '../../helpers/cli.js';
import { createHarness, type Harness } from '../../helpers/pipeline.js';
import { dropSchema, freshSchema, storeUrl } from '../../helpers/postgres.js';
import { redisClient } from '../../helpers/redis.js';

let h: Harness;
let runtime: Runtime;
const schemas: string[] = [];
const PRICES = { OOTO_PRICE_PER_CALL: '0.02', GLAIR_PRICE_PER_CALL: '0.05' };

beforeEach(async () => {
  h = await createHarness('terms', { latencyMs: 30 }, { RESCREEN_HELD_RECHECK_MS: '300' });
  runtime = await h.openRuntime();
});
afterEach(async () => {
  await h.close();
  await Promise.all(schemas.splice(0).map((s) => dropSchema(s)));
});

async function manifest(name: string, lines: number): Promise<string> {
  for (let i = 1; i <= lines; i++) await h.file(`${name}/p${i}.jpg`, sampleJpeg({ seed: name.length * 1000 + i, directives: 'genuine' }));
  return h.manifest(`${name}.jsonl`, Array.from({ length: lines }, (_, i) => ({ ref: `${name}/p${i + 1}.jpg`, check: 'ooto-deepfake', subject: `${name}-${i}` })));
}

async function records(batch: string): Promise<ResultRecord[]> {
  const out: ResultRecord[] = [];
  for await (const r of runtime.store.stream(batch)) out.push(r);
  return out;
}

/** `rescreen work --until-idle` processes, all at once. */
function workers(n: number, env: Record<string, string>) {
  return Promise.all(Array.from({ length: n }, () => runCli(['work', '--until-idle'], env, 90_000)));
}

describe.each([
  { label: 'no price set', prices: {}, spend: 'spend unknown (set OOTO_PRICE_PER_CALL)' },
  { label: 'prices set', prices: PRICES, spend: 'spend USD 0.20' },
])('--max-calls with $label', ({ prices, spend }) => {
  it('three worker processes make exactly 10 paid calls for 30 lines, exit 0 saying why the rest waits; raise lets them finish', async () => {
    const env = { ...h.env, ...prices };
    const enqueued = await runCli(['enqueue', await manifest('capped', 30), '--batch', 'capped', '--max-calls', '10'], env);
    expect(enqueued.code, enqueued.stderr).toBe(0);

    const runs = await workers(3, env);
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toContain('rescreen: batch capped is at its --max-calls cap: 20 lines wait (rescreen batch raise capped --max-calls N / --max-spend X)\n');
    }
    // Counted at the vendor: exactly the cap, whatever the three processes tried.
    expect(h.sim.stats().totalCalls).toBe(10);
    expect((await runtime.store.summary('capped'))!.recorded).toBe(10);
    const status = await runCli(['status', 'capped'], env);
    expect(status.stdout).toContain(`paid calls 10 (ooto 10, glair 0), ${spend}; cap 10 calls (reached)\n`);

    const raised = await runCli(['batch', 'raise', 'capped', '--max-calls', '30'], env);
    expect(raised.code, raised.stderr).toBe(0);
    const [rest] = await workers(1, env);
    expect(rest!.code, rest!.stderr).toBe(0);
    expect(h.sim.stats().totalCalls).toBe(30);
    const all = await records('capped');
    expect(all).toHaveLength(30);
    // Waiting at the cap spent no attempt and no call.
    expect(all.every((r) => r.status === 'completed' && r.attempts === 1)).toBe(true);
  });
});

describe('the batch owns its money', () => {
  it('a worker without price variables (or with lower prices) cannot loosen --max-spend', async () => {
    const priced = { ...h.env, ...PRICES };
    const enqueued = await runCli(['enqueue', await manifest('spend', 20), '--batch', 'spend', '--max-spend', '0.10'], priced);
    expect(enqueued.code, enqueued.stderr).toBe(0);

    const [bare] = await workers(1, h.env);
    expect(bare!.code, bare!.stderr).toBe(0);
    expect(bare!.stderr).toContain('rescreen: batch spend is at its --max-spend cap: 15 lines wait');
    // 0.10 at the batch's 0.02 a call: 5 calls, though this worker knows no price.
    expect(h.sim.stats().totalCalls).toBe(5);
    const [cheap] = await workers(1, { ...h.env, OOTO_PRICE_PER_CALL: '0.001' });
    expect(cheap!.code, cheap!.stderr).toBe(0);
    expect(h.sim.stats().totalCalls).toBe(5);

    // `status` reads the batch's prices, not the reader's environment.
    const status = await runCli(['status', 'spend'], h.env);
    expect(status.stdout).toContain('paid calls 5 (ooto 5, glair 0), spend USD 0.10; cap USD 0.10 (reached)\n');
    // A later enqueue under the same id keeps the batch's prices; raising the cap uses them too.
    const raised = await runCli(['batch', 'raise', 'spend', '--max-spend', '0.20'], h.env);
    expect(raised.code, raised.stderr).toBe(0);
    expect(raised.stdout).toBe('batch spend: paid calls 5 (ooto 5, glair 0), spend USD 0.10; cap USD 0.20\n');
    const [more] = await workers(1, h.env);
    expect(more!.code, more!.stderr).toBe(0);
    expect(h.sim.stats().totalCalls).toBe(10);
  });

  it('a batch enqueued without a price keeps none: --max-spend on it is refused, naming the variable', async () => {
    const file = await manifest('unpriced', 3);
    expect((await runCli(['enqueue', file, '--batch', 'unpriced'], h.env)).code).toBe(0);
    const raised = await runCli(['batch', 'raise', 'unpriced', '--max-spend', '1'], { ...h.env, ...PRICES });
    expect(raised.code).toBe(2);
    expect(raised.stderr).toContain('--max-spend needs a price for every vendor, and batch unpriced was enqueued without OOTO_PRICE_PER_CALL, GLAIR_PRICE_PER_CALL');
    const again = await runCli(['enqueue', file, '--batch', 'unpriced', '--max-spend', '1'], { ...h.env, ...PRICES });
    expect(again.code).toBe(2);
    expect(h.sim.stats().totalCalls).toBe(0);
  });
});

describe('the batch owns its store', () => {
  it('a worker on another store refuses the batch, naming both stores, with no vendor call; the batch stays queued for its own', async () => {
    const schema = freshSchema('terms');
    schemas.push(schema);
    expect((await runCli(['enqueue', await manifest('mine', 10), '--batch', 'mine'], h.env)).code).toBe(0);
    const [elsewhere] = await workers(1, { ...h.env, RESCREEN_STORE_URL: storeUrl(schema) });
    expect(elsewhere!.code).toBe(2);
    expect(elsewhere!.stderr).toContain(
      `rescreen: batch mine was enqueued into the result store redis; this worker uses postgres://127.0.0.1:5432/test?schema=${schema}: 10 lines wait (a worker with that store's RESCREEN_STORE_URL finishes them)\n`,
    );
    expect(elsewhere!.stderr).not.toContain('postgres@');
    expect(h.sim.stats().totalCalls).toBe(0);
    // Enqueueing into the batch from the other store is refused too.
    const mixed = await runCli(['enqueue', await manifest('mine', 10), '--batch', 'mine'], { ...h.env, RESCREEN_STORE_URL: storeUrl(schema) });
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain('batch mine was enqueued into the result store redis; this process uses postgres://');

    const [home] = await workers(1, h.env);
    expect(home!.code, home!.stderr).toBe(0);
    expect((await records('mine')).filter((r) => r.status === 'completed')).toHaveLength(10);
    expect(h.sim.stats().totalCalls).toBe(10);
  });

  it('status warns when paid calls of a batch were recorded in another store (a batch enqueued before batches kept their store)', async () => {
    const schema = freshSchema('terms');
    schemas.push(schema);
    expect((await runCli(['enqueue', await manifest('old', 6), '--batch', 'old'], h.env)).code).toBe(0);
    // What an older release left: no terms with the batch.
    const redis = redisClient();
    await redis.hdel(callsKey(h.prefix, 'old'), 'store', 'currency', 'price:ooto', 'price:glair');
    await redis.quit();
    const [elsewhere] = await workers(1, { ...h.env, RESCREEN_STORE_URL: storeUrl(schema) });
    expect(elsewhere!.code, elsewhere!.stderr).toBe(0);
    expect(h.sim.stats().totalCalls).toBe(6);

    const status = await runCli(['status', 'old'], h.env);
    expect(status.stdout).toContain('recorded   0 (6 to go)');
    expect(status.stdout).toContain(
      'warning: 6 paid calls of this batch were made by workers on another result store than this one (redis): their answers are recorded there, not here\n',
    );
    // Where the answers are, the same counts raise no warning.
    const there = await runCli(['status', 'old'], { ...h.env, RESCREEN_STORE_URL: storeUrl(schema) });
    expect(there.stdout).toContain('recorded   6\n');
    expect(there.stdout).toContain('paid calls 6 (ooto 6, glair 0)');
    expect(there.stdout).not.toContain('warning:');
  });
});
