/**
 * Issue 16, item 2 and its acceptance: a 60 s storm of 503s and connection resets (before any answer
 * byte) on one vendor, from a vendor stand-in that is not our simulator, under two real `rescreen
 * work --until-idle` processes (one fleet): 0 lines failed, 0 attempts spent (every record and every
 * attempt-log row on attempt 1), no paid call counted for the storm, one test call at a time for the
 * whole fleet — the second process joins once the first has opened the breaker, and holds its calls
 * from its first one — the other vendor's lines keep flowing through it, and each process logs one
 * line when the breaker opens and one when it closes. `status` says it while it lasts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { batchBudget, batchSummary } from '../../../src/app/index.js';
import type { ResultRecord } from '../../../src/checks/types.js';
import { sampleJpeg } from '../../../src/simulator/sample-media.js';
import { runCli, startCli } from '../../helpers/cli.js';
import { createHarness, type Harness } from '../../helpers/pipeline.js';
import { startVendorStandIn, type VendorStandIn } from '../../helpers/vendor-stand-in.js';
import { until } from './outage-helpers.js';

let h: Harness | undefined;
let standIn: VendorStandIn | undefined;
afterEach(async () => {
  await standIn?.close();
  await h?.close();
  h = undefined;
  standIn = undefined;
});

const STORM_MS = 60_000;
const OOTO_LINES = 20;
const GLAIR_LINES = 40;

interface LogLine {
  level: string;
  vendor?: string;
  breaker?: string;
  msg: string;
}

describe('a gateway storm on one vendor', () => {
  it(
    'fails no line and spends no attempt; one test at a time for the fleet; the other vendor flows on; each process logs one line when the breaker opens, one when it closes',
    async () => {
      standIn = await startVendorStandIn();
      h = await createHarness('storm', {}, {
        OOTO_BASE_URL: standIn.url,
        GLAIR_BASE_URL: standIn.url,
        // Spread GLAIR's lines over the storm, to see them go on while OOTO's wait.
        GLAIR_RATE_LIMIT: '1/s',
        RESCREEN_CONCURRENCY: '4',
        RESCREEN_BREAKER_MAX_MS: '8000',
        LOG_LEVEL: 'info',
      });
      const lines: unknown[] = [];
      for (let i = 0; i < OOTO_LINES; i++) lines.push({ ref: await h.file(`p${i}.jpg`, sampleJpeg({ seed: i + 1 })), check: 'ooto-deepfake', subject: `o${i}` });
      for (let i = 0; i < GLAIR_LINES; i++) lines.push({ frames: [await h.file(`f${i}.jpg`, sampleJpeg({ seed: 100 + i }))], check: 'glair-frames', subject: `g${i}` });
      const manifest = await h.manifest('m.jsonl', lines);
      expect((await runCli(['enqueue', manifest, '--batch', 'storm'], h.env)).code).toBe(0);

      const storm = standIn.storm('ooto', STORM_MS);
      // Two worker processes on the same Redis and prefix: one fleet, one breaker per vendor. The
      // second joins once the first has opened the breaker (and a while after): a process that starts
      // during an outage must hold its calls from the first one, not burst until its first refresh.
      const first = startCli(['work', '--until-idle'], h.env);
      const workers = [first];
      try {
        await until(async () => first.output().stderr, (e) => /"breaker":"open"/.test(e), 60_000);
        await sleep(1_500);
        workers.push(startCli(['work', '--until-idle'], h.env));
      } catch (error) {
        first.kill('SIGKILL');
        throw error;
      }
      const exited = Promise.all(workers.map((w) => new Promise<number | null>((resolve) => w.on('close', (code) => resolve(code)))));
      try {
        // While it lasts, `status` says why OOTO's lines wait.
        const status = await until(() => runCli(['status', 'storm'], h!.env), (r) => /ooto: unreachable for/.test(r.stdout), 40_000);
        expect(status.stdout).toMatch(/ooto: unreachable for \d+ s \(since .*, last (HTTP_503|VENDOR_CONNECTION)\): its calls are held, its lines stay queued with no attempt spent/);
        expect(status.stdout).not.toContain('RESCREEN_BREAKER_ALERT_MS');
        const timeout = new Promise<string>((resolve) => setTimeout(() => resolve('still running'), STORM_MS + 120_000).unref());
        expect(await Promise.race([exited, timeout])).toEqual([0, 0]);
      } finally {
        for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
      }

      const runtime = await h.openRuntime();
      const records: ResultRecord[] = [];
      for await (const r of runtime.store.stream('storm')) records.push(r);
      expect(records).toHaveLength(OOTO_LINES + GLAIR_LINES);
      expect(records.filter((r) => r.status !== 'completed').map((r) => [r.line, r.status, r.error?.code])).toEqual([]);
      // 0 attempts spent: every record and every answered call of the attempt log on attempt 1.
      expect(records.filter((r) => r.attempts !== 1).map((r) => [r.line, r.attempts])).toEqual([]);
      const rows = (await Promise.all(records.map((r) => runtime.store.attemptsOf('storm', r.line)))).flat();
      expect(rows.filter((r) => r.attempt !== 1)).toEqual([]);
      expect(records.some((r) => r.possiblyBilled !== undefined)).toBe(false);

      // Besides vendor calls, only the free probe for our simulator reached the stand-in (none billed).
      expect(standIn.others().filter((r) => r !== 'GET /__sim/identity')).toEqual([]);
      const calls = standIn.calls();
      const ooto = calls.filter((c) => c.vendor === 'ooto');
      const wasted = ooto.filter((c) => c.outcome !== 200);
      // Every OOTO call during the storm failed at the gateway; each line then paid exactly once.
      expect(wasted.every((c) => c.at < storm.to)).toBe(true);
      expect(ooto.filter((c) => c.outcome === 200)).toHaveLength(OOTO_LINES);
      expect(ooto.filter((c) => c.outcome === 200).every((c) => c.at >= storm.to)).toBe(true);
      // The breaker held OOTO for the fleet: a few failures to open it (the calls on their way then),
      // then one test at a time for both processes — never two calls close together — ~10 in 60 s.
      expect(wasted.length).toBeGreaterThanOrEqual(5);
      expect(wasted.length).toBeLessThanOrEqual(30);
      // Test calls are those after the breaker opened (the first process to say so, plus a second for
      // calls that had passed the closed breaker then): on a loaded machine the workers may start
      // well after the storm did, so the burst that opens it can come late.
      const opened = Math.min(
        ...workers.flatMap((w) =>
          w
            .output()
            .stderr.split('\n')
            .filter((l) => l.startsWith('{'))
            .map((l) => JSON.parse(l) as LogLine & { time?: string })
            .filter((l) => l.breaker === 'open' && l.time !== undefined)
            .map((l) => Date.parse(l.time!)),
        ),
      );
      expect(Number.isFinite(opened)).toBe(true);
      const tests = wasted.filter((c) => c.at >= opened + 1_000);
      const gaps = tests.slice(1).map((c, i) => c.at - tests[i]!.at);
      expect(gaps.filter((g) => g < 500)).toEqual([]);
      // The failed calls are no paid calls: the batch paid one call a line.
      const budget = await batchBudget(runtime, await batchSummary(runtime, 'storm'));
      expect(budget.paidCalls).toEqual({ ooto: OOTO_LINES, glair: GLAIR_LINES });
      // GLAIR flowed through the storm (at its 1/s quota, minus the worker's start-up on a loaded box).
      const glairDuringStorm = calls.filter((c) => c.vendor === 'glair' && c.outcome === 200 && c.at < storm.to).length;
      expect(glairDuringStorm).toBeGreaterThanOrEqual(20);

      // Each process says it once: one line when the breaker opened, one when it closed.
      for (const worker of workers) {
        const log = worker
          .output()
          .stderr.split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as LogLine);
        const said = (kind: string) => log.filter((l) => l.breaker === kind);
        expect(said('open').map((l) => [l.vendor, l.level])).toEqual([['ooto', 'warn']]);
        expect(said('closed').map((l) => [l.vendor, l.level])).toEqual([['ooto', 'info']]);
        expect(said('alert')).toEqual([]);
        // No per-job noise above debug about the outage.
        // (BullMQ's 'could not renew lock' is the machine's load, not the outage: a starved process
        // misses a lock renewal whatever the vendor does; the records above show nothing was lost.)
        const aboutLoad = (l: LogLine & { err?: { message?: string } }) => /could not renew lock/.test(`${l.msg} ${l.err?.message ?? ''}`);
        expect(log.filter((l) => ['warn', 'error', 'fatal'].includes(l.level) && l.breaker === undefined && !aboutLoad(l))).toEqual([]);
        for (const l of [...said('open'), ...said('closed')]) console.log(`${l.level}: ${l.msg}`);
      }

      console.log(
        `storm ${STORM_MS / 1000} s: ${OOTO_LINES + GLAIR_LINES} lines, 0 failed; OOTO calls during the storm ${wasted.length} ` +
          `(${wasted.filter((c) => c.outcome === 503).length} × 503, ${wasted.filter((c) => c.outcome === 'reset').length} resets), none paid; ` +
          `GLAIR answers during the storm ${glairDuringStorm}; last OOTO answer ${Math.round((Math.max(...ooto.map((c) => c.at)) - storm.to) / 1000)} s after it`,
      );
    },
    STORM_MS + 180_000,
  );
});
