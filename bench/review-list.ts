/**
 * `node dist/bench/review-list.js [--cases N]`: `rescreen review list` over 10^5 open cases on
 * PostgreSQL (RESCREEN_BENCH_DATABASE_URL, DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test,
 * in a schema of its own, migrated, dropped afterwards). The cases go in through the store's own
 * `openCases` (one multi-row INSERT … SELECT FROM unnest per 2,000), with 10 % of them decided so the
 * queue's partial index has something to leave out. Then, after a warm-up, 30 timed rounds of what
 * `review list` asks the store for its first page (the page, then the counts per state), for the
 * plain list, `--state open` and `--batch`; the SQL each sent is captured and EXPLAINed (ANALYZE),
 * and the bench fails unless the page queries use an index. Prints a markdown table for BENCHMARKS.md.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { openPgStore } from '../src/runtime/store.js';
import { caseIdOf, type CaseLine, type CaseOpening, type CaseQuery } from '../src/store/cases.js';
import { PgCaseStore } from '../src/store/postgres/pg-case-store.js';

const ROUNDS = 30;
const CHUNK = 2_000;
const TARGET_MS = 200;

function pgBase(): string {
  return process.env.RESCREEN_BENCH_DATABASE_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
}

/** A case as a night's `worse` change opens it: one line with its baseline (~0.6 KB of JSON). */
function opening(batch: string, i: number): CaseOpening {
  const line: CaseLine = {
    line: i + 1,
    check: 'ooto-deepfake',
    status: 'completed',
    verdict: 'deepfake',
    score: 0.08,
    transactionId: `tx-${batch}-${i}`,
    kind: 'worse',
    label: 'genuine → deepfake',
    mediaSha256: randomBytes(32).toString('hex'),
    code: null,
    baseline: { source: 'record', batch: 'night-0', line: i + 1, verdict: 'genuine', score: 0.94, at: '2026-11-01T02:00:00.000Z', transactionId: `tx-night-0-${i}` },
    reasons: ['worse'],
  };
  return { batch, subject: `cust-${String(i).padStart(7, '0')}`, reasons: ['worse'], lines: [line] };
}

/** The pool, with every statement sent through it kept (text and values) for EXPLAIN. */
function capturing(pool: pg.Pool): { pool: pg.Pool; sent: { text: string; values: unknown[] }[] } {
  const sent: { text: string; values: unknown[] }[] = [];
  const query = (text: string, values?: unknown[]) => {
    sent.push({ text, values: values ?? [] });
    return pool.query(text, values);
  };
  return { pool: { query, connect: () => pool.connect() } as unknown as pg.Pool, sent };
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function main(): Promise<void> {
  const arg = process.argv.indexOf('--cases');
  const total = arg > 0 ? Number(process.argv[arg + 1]) : 100_000;
  if (!Number.isSafeInteger(total) || total < 1_000) throw new Error('--cases must be a whole number ≥ 1000');
  const schema = `bench_review_${randomBytes(4).toString('hex')}`;
  const url = new URL(pgBase());
  url.searchParams.set('schema', schema);
  const { pool } = await openPgStore(url.toString());
  try {
    const store = new PgCaseStore(pool);
    // 10 nights; the last one's cases are 10 % of all, the batch `--batch` looks at.
    const batches = Array.from({ length: 10 }, (_, n) => `night-${n + 1}`);
    const started = performance.now();
    for (let i = 0; i < total; i += CHUNK) {
      const n = Math.min(CHUNK, total - i);
      await store.openCases(Array.from({ length: n }, (_, k) => opening(batches[Math.floor(((i + k) * batches.length) / total)]!, i + k)));
    }
    const loadSeconds = (performance.now() - started) / 1000;
    // Every tenth case decided (straight in SQL: this is set-up, not what is measured).
    const decided = Math.floor(total / 10);
    await pool.query(`UPDATE cases SET state = 'decided', decision = 'cleared', decided_by = 'bench', decided_at = opened_at, decisions = 1 WHERE seq % 10 = 0`);
    await pool.query('VACUUM ANALYZE cases');
    const open = total - decided;

    const { pool: spy, sent } = capturing(pool);
    const measured = new PgCaseStore(spy);
    const lastBatch = batches[batches.length - 1]!;
    const variants: { name: string; query: CaseQuery; counts: { batch?: string } }[] = [
      { name: '`review list`', query: { limit: 50 }, counts: {} },
      { name: '`review list --state open`', query: { state: 'open', limit: 50 }, counts: {} },
      { name: `\`review list --batch ${lastBatch}\``, query: { batch: lastBatch, limit: 50 }, counts: { batch: lastBatch } },
    ];
    const rows: string[] = [];
    const plans: string[] = [];
    let ok = true;
    for (const v of variants) {
      const page: number[] = [];
      const whole: number[] = [];
      for (let round = -3; round < ROUNDS; round++) {
        const t0 = performance.now();
        const got = await measured.listCases(v.query);
        const t1 = performance.now();
        await measured.countCases(v.counts);
        const t2 = performance.now();
        if (got.cases.length !== 50) throw new Error(`${v.name}: a first page of ${got.cases.length} cases`);
        if (round >= 0) {
          page.push(t1 - t0);
          whole.push(t2 - t0);
        }
      }
      page.sort((a, b) => a - b);
      whole.sort((a, b) => a - b);
      // The page and the counts statements this variant sent last.
      const [listSql, countSql] = sent.slice(-2);
      const plan = (await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${listSql!.text}`, listSql!.values)).rows.map((r) => r['QUERY PLAN']);
      const countPlan = (await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${countSql!.text}`, countSql!.values)).rows.map((r) => r['QUERY PLAN']);
      const indexed = plan.some((l) => /Index (Only )?Scan/.test(l)) && !plan.some((l) => /Seq Scan on cases/.test(l));
      ok &&= indexed && quantile(whole, 0.95) < TARGET_MS;
      const index = /Index (?:Only )?Scan(?: Backward)? using (\w+)/.exec(plan.join('\n'))?.[1] ?? 'none';
      rows.push(
        `| ${v.name}, first page of 50 | ${quantile(page, 0.5).toFixed(1)} ms | ${quantile(page, 0.95).toFixed(1)} ms | ${quantile(whole, 0.5).toFixed(1)} ms | ${quantile(whole, 0.95).toFixed(1)} ms | ${index} | ${indexed && quantile(whole, 0.95) < TARGET_MS ? 'yes' : 'no'} |`,
      );
      plans.push(`${v.name} page:`, ...plan.map((l) => `    ${l}`), `${v.name} counts:`, ...countPlan.map((l) => `    ${l}`));
    }
    const version = (await pool.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version ?? '?';
    const size = (await pool.query<{ bytes: string }>(`SELECT pg_total_relation_size('cases')::bigint AS bytes`)).rows[0]?.bytes ?? '0';
    process.stdout.write(
      [
        `${total.toLocaleString('en')} cases (${open.toLocaleString('en')} open, ${decided.toLocaleString('en')} decided) in ${batches.length} batches, loaded through openCases in ${loadSeconds.toFixed(1)} s (${Math.round(total / loadSeconds).toLocaleString('en')} cases/s); cases table with indexes ${(Number(size) / 1024 ** 2).toFixed(0)} MB; PostgreSQL ${version}; ${ROUNDS} rounds after 3 warm-up`,
        '',
        `| query (PostgreSQL store) | page p50 | page p95 | page + counts p50 | page + counts p95 | index | < ${TARGET_MS} ms? |`,
        '|---|--:|--:|--:|--:|---|--:|',
        ...rows,
        '',
        'plans (EXPLAIN ANALYZE of the page statement sent; EXPLAIN of the counts):',
        ...plans,
        '',
      ].join('\n'),
    );
    // The first page is the oldest opened: the first subject's case.
    const first = await store.listCases({ limit: 1 });
    if (first.cases[0]?.id !== caseIdOf(batches[0]!, 'cust-0000000')) throw new Error('the first page does not start with the oldest case');
    if (!ok) process.exitCode = 1;
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await pool.end();
  }
}

await main();
