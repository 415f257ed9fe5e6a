/**
 * (store) The result store at backlog scale, against PostgreSQL (RESCREEN_BENCH_DATABASE_URL,
 * DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test, in a schema of its own dropped
 * afterwards) and a private redis-server (so other users of the shared Redis do not blur the memory
 * figures):
 *
 * 1. record writes/s from one process: `put` with 32 in flight, as a worker's concurrent jobs make them;
 * 2. `rescreen results --format csv --output` of 10^6 records from PostgreSQL: rows/s and peak RSS
 *    of the exporting process (VmHWM);
 * 3. Redis used memory with a 10^6-line manifest enqueued (RESCREEN_MAX_QUEUED=100000), at the full
 *    window, against the empty server;
 * 4. Redis used memory after a whole batch ran with the PostgreSQL store, against before it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResultRecord } from '../src/checks/types.js';
import { openPgStore } from '../src/runtime/store.js';
import type { BenchContext, Row, ScenarioResult } from './common.js';
import { fmtInt, sleep } from './common.js';
import { writeManifest } from './manifest-gen.js';
import { redisClient } from './redis-util.js';

const BIN = fileURLToPath(new URL('../../bin/rescreen.js', import.meta.url));

function pgBase(): string {
  return process.env.RESCREEN_BENCH_DATABASE_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
}

function benchRecord(batch: string, line: number): ResultRecord {
  return {
    batch,
    line,
    subject: `cust-${line % 50_000}`,
    ref: `https://media.example.com/onboarding/${line}/selfie.jpg`,
    refHadQuery: true,
    check: 'ooto-deepfake',
    status: line % 17 === 0 ? 'rejected' : 'completed',
    transactionId: `tx-${batch}-${line}-${randomBytes(6).toString('hex')}`,
    verdict: line % 17 === 0 ? null : line % 5 === 0 ? 'deepfake' : 'genuine',
    score: line % 17 === 0 ? null : 0.9,
    error: line % 17 === 0 ? { code: 5, message: 'no face found' } : null,
    attempts: 1,
    finishedAt: new Date(1_714_557_600_000 + line * 1000).toISOString(),
    media: [{ sha256: randomBytes(32).toString('hex'), bytes: 180_000 + (line % 1000), type: 'image/jpeg' }],
    response: { transactionId: `tx-${line}`, result: { deepfake: { score: 0.9, fine: true }, box: { x: 655, y: 1083, w: 937, h: 1210 } } },
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Peak RSS (VmHWM, bytes) of a running child, polled until it exits. */
function watchPeak(child: ChildProcess): Promise<{ code: number | null; peak: number }> {
  let peak = 0;
  const timer = setInterval(() => {
    readFile(`/proc/${child.pid}/status`, 'utf8')
      .then((text) => {
        const kb = Number(/VmHWM:\s+(\d+)/.exec(text)?.[1] ?? 0);
        peak = Math.max(peak, kb * 1024);
      })
      .catch(() => undefined);
  }, 50);
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      clearInterval(timer);
      resolve({ code, peak });
    });
  });
}

async function usedMemory(url: string): Promise<number> {
  const client = redisClient(url);
  try {
    const info = await client.info('memory');
    return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
  } finally {
    await client.quit();
  }
}

const MB = 1024 * 1024;

export async function runStoreScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const records = ctx.quick ? 50_000 : 1_000_000;
  const writes = ctx.quick ? 4_000 : 20_000;
  const manifestLines = ctx.quick ? 100_000 : 1_000_000;
  const window = ctx.quick ? 20_000 : 100_000;
  const drainLines = ctx.quick ? 2_000 : 20_000;
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const url = new URL(pgBase());
  url.searchParams.set('schema', schema);
  const storeUrl = url.toString();
  const { store, pool } = await openPgStore(storeUrl);
  const rows: Row[] = [];
  const notes: string[] = [];
  const port = await freePort();
  const redisUrl = `redis://127.0.0.1:${port}`;
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  try {
    // 1. writes from one process, 32 in flight.
    ctx.note(`store: ${fmtInt(writes)} puts, 32 in flight`);
    let next = 1;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        for (let line = next++; line <= writes; line = next++) await store.put(benchRecord('export', line));
      }),
    );
    const writeRate = writes / ((performance.now() - t0) / 1000);
    rows.push({ scenario: '(store) record writes/s, one process', rescreen: fmtInt(writeRate), baseline: '-', ratio: '-', target: '≥ 2,000', ok: writeRate >= 2_000 });

    // 2. the rest in bulk, then the export of all of them.
    ctx.note(`store: loading ${fmtInt(records)} records`);
    for (let from = writes + 1; from <= records; from += 1_000) {
      const chunk = [];
      for (let line = from; line < from + 1_000 && line <= records; line++) chunk.push(benchRecord('export', line));
      await store.putMany(chunk);
    }
    await store.finishBatch('export', { total: records, maxLine: records });
    const out = join(ctx.tmpDir, 'export.csv');
    ctx.note(`store: exporting ${fmtInt(records)} records as CSV`);
    const env = { ...process.env, REDIS_URL: redisUrl, RESCREEN_STORE_URL: storeUrl, LOG_LEVEL: 'warn' };
    while (!(await usedMemory(redisUrl).then(() => true, () => false))) await sleep(50);
    const t1 = performance.now();
    const exporter = spawn(process.execPath, [BIN, 'results', 'export', '--format', 'csv', '--output', out], { env, stdio: 'ignore' });
    const { code, peak } = await watchPeak(exporter);
    const exportS = (performance.now() - t1) / 1000;
    if (code !== 0) throw new Error(`the export exited ${code}`);
    const exportRate = records / exportS;
    rows.push({ scenario: `(store) CSV export from PostgreSQL, rows/s (${fmtInt(records)})`, rescreen: fmtInt(exportRate), baseline: '-', ratio: '-', target: '≥ 50,000', ok: exportRate >= 50_000 });
    rows.push({ scenario: '(store) exporter peak RSS', rescreen: `${(peak / MB).toFixed(0)} MB`, baseline: '-', ratio: '-', target: '< 150 MB', ok: peak < 150 * MB });
    notes.push(`(store) ${fmtInt(records)} records exported in ${exportS.toFixed(1)} s, whole process (start, connect, migrate check, stream, write)`);

    // 3. a 10^6-line manifest enqueued behind the window.
    const baseline = await usedMemory(redisUrl);
    const manifest = join(ctx.tmpDir, 'big.jsonl');
    await writeManifest(manifest, manifestLines);
    ctx.note(`store: enqueueing ${fmtInt(manifestLines)} lines behind a ${fmtInt(window)} window`);
    const prefix = `{bench-${randomBytes(3).toString('hex')}}`;
    const producer = spawn(process.execPath, [BIN, 'enqueue', manifest, '--batch', 'big'], {
      env: { ...env, RESCREEN_PREFIX: prefix, RESCREEN_MAX_QUEUED: String(window) },
      stdio: 'ignore',
    });
    let most = 0;
    const deadline = Date.now() + 180_000;
    let steady = 0;
    while (Date.now() < deadline && producer.exitCode === null) {
      const used = await usedMemory(redisUrl);
      steady = used > most * 1.01 ? 0 : steady + 1;
      most = Math.max(most, used);
      if (steady >= 20) break; // 10 s without growth: the window is full and the producer waits
      await sleep(500);
    }
    const stillWaiting = producer.exitCode === null;
    producer.kill('SIGKILL');
    const held = most - baseline;
    rows.push({ scenario: `(store) Redis used memory, ${fmtInt(manifestLines)}-line manifest enqueued`, rescreen: `${(most / MB).toFixed(0)} MB`, baseline: `${(baseline / MB).toFixed(1)} MB empty`, ratio: '-', target: '< 200 MB', ok: most < 200 * MB && stillWaiting });
    notes.push(`(store) the producer ${stillWaiting ? 'was still waiting at the window' : 'had finished'} when measured; the batch held ${(held / MB).toFixed(0)} MB (${((held / window) / 1024).toFixed(2)} KB per waiting job)`);
    const client = redisClient(redisUrl);
    await client.flushall();
    await client.quit();

    // 4. a whole batch with the PostgreSQL store: Redis back to its baseline afterwards.
    const small = join(ctx.tmpDir, 'small.jsonl');
    await writeFile(small, Array.from({ length: drainLines }, (_, i) => JSON.stringify({ ref: `missing/${i}.jpg`, check: 'ooto-deepfake', subject: `s${i}` })).join('\n'));
    const before = await usedMemory(redisUrl);
    ctx.note(`store: running a ${fmtInt(drainLines)}-line batch with the PostgreSQL store`);
    const runEnv = { ...env, RESCREEN_PREFIX: '{drain}', OOTO_BASE_URL: 'http://127.0.0.1:9', GLAIR_BASE_URL: 'http://127.0.0.1:9', RESCREEN_SIMULATOR_CREDENTIALS: '1', RESCREEN_CONCURRENCY: '32' };
    const run = spawn(process.execPath, [BIN, 'run', small, '--batch', 'drain'], { env: runEnv, stdio: 'ignore' });
    const ran = await watchPeak(run);
    if (ran.code !== 0) throw new Error(`the drain run exited ${ran.code}`);
    const after = await usedMemory(redisUrl);
    const drained = (await store.summary('drain'))?.recorded ?? 0;
    rows.push({
      scenario: `(store) Redis used memory after a ${fmtInt(drainLines)}-line batch (PostgreSQL store)`,
      rescreen: `${((after - before) / 1024).toFixed(0)} KB over before`,
      baseline: `${(before / MB).toFixed(1)} MB before`,
      ratio: '-',
      target: '< 1 MB over',
      ok: after - before < MB && drained === drainLines,
    });
    const pgSize = await pool.query<{ bytes: string }>(
      `SELECT sum(pg_total_relation_size(c.oid))::bigint AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r', 'm')`,
      [schema],
    );
    const perMillion = (Number(pgSize.rows[0]?.bytes ?? 0) / (records + drainLines)) * 1e6;
    notes.push(`(store) PostgreSQL holds ${(perMillion / 1024 ** 3).toFixed(2)} GB per 10^6 records (tables and indexes, records as benched: ~0.5 KB of answer each)`);
  } finally {
    redis.kill('SIGTERM');
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await pool.end();
  }
  return { rows, notes };
}
