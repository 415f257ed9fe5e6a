/**
 * Issue 16, items 4 and 5: a failed line keeps its cause (`error.code` is the last failure's, the
 * limit that ended its retries is `stoppedBy`), shown by `status` and the CSV; and a filtered redrive
 * (`retry --code … --vendor … --check … --since … --dry-run`, and the API's) counts and prices exactly
 * the lines it would re-send before sending them. The vendor here times out for some media and, for
 * others, resets the connection in the middle of its answer (a hostile proxy in front of the
 * simulator: nothing of rescreen's own making).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResultRecord } from '../../../src/checks/types.js';
import { enqueueBatch, pendingJobs, startWorkers } from '../../../src/app/index.js';
import type { Runtime } from '../../../src/runtime/runtime.js';
import { sampleJpeg, sampleMp4 } from '../../../src/simulator/sample-media.js';
import { runCli } from '../../helpers/cli.js';
import { startCuttingProxy, type CuttingProxy } from '../../helpers/cutting-proxy.js';
import { createHarness, eventually, sha256, type Harness } from '../../helpers/pipeline.js';
import { startTestServer } from '../../helpers/server.js';

const OPERATOR = 'op-token-5d1c9a7e3b2f4c80';
const BATCH = 'causes';

let h: Harness;
let proxy: CuttingProxy;
let runtime: Runtime;
/** Media whose calls the simulator never answers (sha256 hex); emptied to let them through. */
const hanging = new Set<string>();
const media = {
  good: sampleJpeg({ seed: 1 }),
  timeouts: [2, 3, 4].map((seed) => sampleJpeg({ seed })),
  // The proxy cuts the answer to any call whose body carries this (an unknown directive: the simulator ignores it).
  resets: [5, 6].map((seed) => sampleJpeg({ seed, directives: 'cutmidanswer' })),
  noface: sampleJpeg({ seed: 7, directives: 'noface' }),
  video: sampleMp4({ seed: 8 }),
};

async function records(): Promise<ResultRecord[]> {
  const out: ResultRecord[] = [];
  for await (const r of runtime.store.stream(BATCH)) out.push(r);
  return out;
}

async function workUntilFinished(): Promise<void> {
  const workers = startWorkers(runtime);
  try {
    await eventually(() => pendingJobs(runtime), (p) => Object.values(p).every((n) => n === 0), 60_000);
  } finally {
    await workers.close();
  }
}

beforeAll(async () => {
  proxy = await startCuttingProxy('cutmidanswer');
  const videoSha = sha256(media.video);
  h = await createHarness(
    'causes',
    {
      script: {
        callFor: (sha) => (hanging.has(sha) ? { failure: { kind: 'timeout' } } : sha === videoSha ? { failure: { kind: '500' } } : undefined),
      },
    },
    {
      OOTO_BASE_URL: proxy.url,
      RESCREEN_MAX_CALLS_PER_LINE: '2',
      RESCREEN_ATTEMPTS: '5',
      RESCREEN_CALL_RETRIES: '0',
      RESCREEN_REQUEST_TIMEOUT_MS: '400',
      OOTO_PRICE_PER_CALL: '0.02',
      GLAIR_PRICE_PER_CALL: '0.03',
    },
  );
  proxy.target = h.sim.url;
  for (const m of media.timeouts) hanging.add(sha256(m));
  await h.file('good.jpg', media.good);
  for (const [i, m] of media.timeouts.entries()) await h.file(`t${i + 1}.jpg`, m);
  for (const [i, m] of media.resets.entries()) await h.file(`r${i + 1}.jpg`, m);
  await h.file('noface.jpg', media.noface);
  await h.file('v.mp4', media.video);
  const manifest = await h.manifest('m.jsonl', [
    { ref: 'good.jpg', check: 'ooto-deepfake' }, // 1 completed
    { ref: 't1.jpg', check: 'ooto-deepfake' }, // 2 timeout
    { ref: 'r1.jpg', check: 'ooto-deepfake' }, // 3 reset mid-answer
    { ref: 't2.jpg', check: 'ooto-deepfake' }, // 4 timeout
    { ref: 'noface.jpg', check: 'ooto-deepfake' }, // 5 rejected (5)
    { ref: 'missing.jpg', check: 'ooto-deepfake' }, // 6 MEDIA_NOT_FOUND
    { ref: 'r2.jpg', check: 'ooto-deepfake' }, // 7 reset mid-answer
    { ref: 't3.jpg', check: 'ooto-identify' }, // 8 timeout
    { ref: 'v.mp4', check: 'glair-video' }, // 9 HTTP_500
    { ref: 'good.jpg', check: 'nope' }, // 10 INVALID_LINE
  ]);
  runtime = await h.openRuntime();
  // Enqueued with prices: they are the batch's own from now on.
  await enqueueBatch(runtime, { manifest, batch: BATCH });
  await workUntilFinished();
}, 120_000);

afterAll(async () => {
  await h?.close();
  await proxy?.close();
});

describe('causes kept', () => {
  it('timeout lines end VENDOR_TIMEOUT and reset lines VENDOR_CONNECTION, both stoppedBy call-budget', async () => {
    const byLine = new Map((await records()).map((r) => [r.line, r]));
    for (const line of [2, 4, 8]) {
      expect(byLine.get(line), `line ${line}`).toMatchObject({ status: 'failed', stoppedBy: 'call-budget', possiblyBilled: 2, error: { code: 'VENDOR_TIMEOUT' } });
      expect(byLine.get(line)!.error!.message).toMatch(/RESCREEN_MAX_CALLS_PER_LINE=2$/);
    }
    for (const line of [3, 7]) {
      expect(byLine.get(line), `line ${line}`).toMatchObject({ status: 'failed', stoppedBy: 'call-budget', possiblyBilled: 2, error: { code: 'VENDOR_CONNECTION' } });
    }
    expect(proxy.cut()).toBe(4); // two reset lines, two calls each: the budget held
    expect(byLine.get(9)).toMatchObject({ status: 'failed', stoppedBy: 'call-budget', error: { code: 'HTTP_500' } });
    // Final by nature: no stoppedBy.
    for (const line of [5, 6, 10]) expect(byLine.get(line)?.stoppedBy, `line ${line}`).toBeUndefined();
    expect(byLine.get(5)).toMatchObject({ status: 'rejected', error: { code: 5 } });
    expect(byLine.get(6)).toMatchObject({ status: 'failed', error: { code: 'MEDIA_NOT_FOUND' } });
    expect(byLine.get(1)).toMatchObject({ status: 'completed' });
    expect(JSON.stringify([...byLine.values()])).not.toContain('CALL_BUDGET_EXHAUSTED');
  });

  it('status breaks the failed lines down by cause and stoppedBy; the CSV has a stoppedBy column after errorMessage', async () => {
    const status = await runCli(['status', BATCH], h.env);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(
      'failed by  VENDOR_TIMEOUT 3 (stopped by call-budget), VENDOR_CONNECTION 2 (stopped by call-budget), HTTP_500 1 (stopped by call-budget), INVALID_LINE 1, MEDIA_NOT_FOUND 1\n',
    );
    const csv = await runCli(['results', BATCH, '--format', 'csv'], h.env);
    const [header, ...rows] = csv.stdout.trim().split('\n');
    const columns = header!.split(',');
    const at = columns.indexOf('stoppedBy');
    expect(columns[at - 1]).toBe('errorMessage');
    const line = columns.indexOf('line');
    // Messages hold no comma here except inside quotes: read the cells with a CSV-aware split.
    const cells = rows.map((r) => [...r.matchAll(/("([^"]|"")*"|[^,]*)(,|$)/g)].map((m) => m[1]!));
    const stopped = Object.fromEntries(cells.map((c) => [c[line], c[at]]));
    expect(stopped).toMatchObject({ '2': 'call-budget', '3': 'call-budget', '9': 'call-budget', '1': '', '5': '', '6': '' });
  });
});

describe('filtered redrive', () => {
  it('retry --code VENDOR_TIMEOUT --dry-run counts exactly the timeout lines and prices them at the batch\'s prices; nothing is written', async () => {
    const before = JSON.stringify(await records());
    // A process with other prices than the batch's: the batch's own count.
    const env = { ...h.env, OOTO_PRICE_PER_CALL: '9', GLAIR_PRICE_PER_CALL: '9' };
    const dry = await runCli(['retry', BATCH, '--code', 'VENDOR_TIMEOUT', '--dry-run'], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toBe(
      `batch ${BATCH}: would re-enqueue 3 failed lines (VENDOR_TIMEOUT 3; ooto 3); 5 other failed lines left out by the filter; 1 rejected line left alone (final answers about the media)\n` +
        `paid calls: 3 (one a line) to 6 (RESCREEN_MAX_CALLS_PER_LINE=2 a line); cost USD 0.06 to USD 0.12 at the batch's prices\n`,
    );
    expect(Object.values(await pendingJobs(runtime)).reduce((a, b) => a + b, 0)).toBe(0);
    expect(JSON.stringify(await records())).toBe(before);

    // Other filters, each counting exactly its lines.
    const count = async (...args: string[]) => {
      const r = await runCli(['retry', BATCH, '--dry-run', ...args], h.env);
      expect(r.code, r.stderr).toBe(0);
      return /would re-enqueue (\d+) failed line/.exec(r.stdout)?.[1];
    };
    expect(await count('--code', 'VENDOR_TIMEOUT,VENDOR_CONNECTION')).toBe('5');
    expect(await count('--code', 'VENDOR_TIMEOUT', '--check', 'ooto-identify')).toBe('1');
    expect(await count('--vendor', 'glair')).toBe('1');
    expect(await count('--since', '1h')).toBe('7'); // every failed line but the invalid one
    expect(await count('--since', '2099-01-01T00:00:00Z')).toBe('0');
    // A rejected line is never retried, whatever the filter.
    expect(await count('--code', '5')).toBe('0');
    for (const bad of [['--vendor', 'acme'], ['--check', 'nope'], ['--since', 'yesterday'], ['--code', ',']]) {
      const r = await runCli(['retry', BATCH, '--dry-run', ...bad], h.env);
      expect(r.code, bad.join(' ')).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^rescreen: ${bad[0]}`));
    }
  });

  it('the HTTP API answers the same counts and cost, and validates its body', async () => {
    const s = await startTestServer(h, { RESCREEN_API_TOKENS: `ops:operator:${OPERATOR}` }, { OOTO_PRICE_PER_CALL: '9' });
    try {
      const headers = { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' };
      const res = await s.app.inject({ method: 'POST', url: `/api/batches/${BATCH}/retry`, headers, payload: { codes: ['VENDOR_TIMEOUT'], dryRun: true } });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({
        batch: BATCH,
        dryRun: true,
        lines: 3,
        requeued: 0,
        byCode: { VENDOR_TIMEOUT: 3 },
        byVendor: { ooto: 3, glair: 0 },
        notMatched: 5,
        rejected: 1,
        filter: { codes: ['VENDOR_TIMEOUT'] },
        cost: { currency: 'USD', total: 60_000, maxTotal: 120_000, calls: 3, maxCalls: 6, perVendor: { ooto: 60_000, glair: 0 } },
        state: 'running',
      });
      const since = await s.app.inject({ method: 'POST', url: `/api/batches/${BATCH}/retry`, headers, payload: { vendor: 'ooto', since: '2h', dryRun: true } });
      expect(since.json()).toMatchObject({ lines: 6, byCode: { VENDOR_TIMEOUT: 3, VENDOR_CONNECTION: 2, MEDIA_NOT_FOUND: 1 } });
      for (const payload of [{ vendor: 'acme', dryRun: true }, { since: 'soon', dryRun: true }, { codes: [], dryRun: true }, { dryRun: 'yes' }]) {
        const bad = await s.app.inject({ method: 'POST', url: `/api/batches/${BATCH}/retry`, headers, payload });
        expect(bad.statusCode, JSON.stringify(payload)).toBe(400);
        expect(bad.json()).toMatchObject({ code: 'INVALID_INPUT' });
      }
      // The OpenAPI document describes the body.
      const doc = (await s.app.inject({ url: '/openapi.json' })).json<{
        paths: Record<string, { post: { requestBody?: { required: boolean; content: Record<string, { schema: unknown }> } } }>;
        components: { schemas: Record<string, { properties: Record<string, unknown> }> };
      }>();
      const body = doc.paths['/api/batches/{id}/retry']!.post.requestBody!;
      expect(body.required).toBe(false);
      // No body (or null) retries every failed line; else the request schema.
      const ref = /"#\/components\/schemas\/(\w+)"/.exec(JSON.stringify(body.content['application/json']!.schema))![1]!;
      expect(Object.keys(doc.components.schemas[ref]!.properties).sort()).toEqual(['check', 'codes', 'dryRun', 'since', 'vendor']);
      expect(Object.values(await pendingJobs(runtime)).reduce((a, b) => a + b, 0)).toBe(0);
    } finally {
      await s.close();
    }
  });

  it('a real retry --code VENDOR_TIMEOUT re-enqueues exactly the timeout lines; the others are not re-sent', async () => {
    const calls = () => h.sim.stats().callsByMediaSha256;
    const before = { ...calls() };
    const cutBefore = proxy.cut();
    hanging.clear(); // the vendor answers them now
    const retry = await runCli(['retry', BATCH, '--code', 'VENDOR_TIMEOUT'], h.env);
    expect(retry.code, retry.stderr).toBe(0);
    expect(retry.stdout).toMatch(/^batch causes: re-enqueued 3 failed lines \(VENDOR_TIMEOUT 3; ooto 3\)/);
    expect(await pendingJobs(runtime)).toEqual({ ooto: 3, glair: 0 });
    await workUntilFinished();

    const byLine = new Map((await records()).map((r) => [r.line, r]));
    for (const line of [2, 4, 8]) expect(byLine.get(line)?.status, `line ${line}`).toBe('completed');
    for (const line of [3, 7]) expect(byLine.get(line)).toMatchObject({ status: 'failed', error: { code: 'VENDOR_CONNECTION' } });
    expect(byLine.get(5)?.status).toBe('rejected');
    expect(byLine.get(9)).toMatchObject({ status: 'failed', error: { code: 'HTTP_500' } });
    // One more call for each timeout medium, none for anything else.
    const after = calls();
    for (const m of media.timeouts) expect(after[sha256(m)]).toBe((before[sha256(m)] ?? 0) + 1);
    for (const m of [media.noface, media.video, media.good]) expect(after[sha256(m)]).toBe(before[sha256(m)]);
    expect(proxy.cut()).toBe(cutBefore);
    const summary = await runtime.store.summary(BATCH);
    expect(summary?.failures).toEqual([
      { code: 'VENDOR_CONNECTION', stoppedBy: 'call-budget', count: 2 },
      { code: 'HTTP_500', stoppedBy: 'call-budget', count: 1 },
      { code: 'INVALID_LINE', stoppedBy: null, count: 1 },
      { code: 'MEDIA_NOT_FOUND', stoppedBy: null, count: 1 },
    ]);
  });
});
