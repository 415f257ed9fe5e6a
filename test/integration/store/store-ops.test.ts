/**
 * The store commands through the CLI: `forget --subject`, `purge --before` (on both stores),
 * `db migrate`, and `store copy --to postgres://…` from the Redis store, run twice (idempotent).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createPgPool } from '../../../src/store/postgres/connection.js';
import { loadMigrations } from '../../../src/store/postgres/migrate.js';
import { PgResultStore } from '../../../src/store/postgres/pg-result-store.js';
import type { Runtime } from '../../../src/runtime/runtime.js';
import { runCli } from '../../helpers/cli.js';
import { STORE_KINDS, createHarness, type Harness } from '../../helpers/pipeline.js';
import { dropSchema, freshSchema, pgUrl, schemaExists, storeUrl } from '../../helpers/postgres.js';
import { caseLine, opening } from './case-conformance.js';
import { attempt, record } from './conformance.js';

let h: Harness | undefined;
const schemas: string[] = [];
afterEach(async () => {
  await h?.close();
  h = undefined;
  await Promise.all(schemas.splice(0).map(dropSchema));
});

async function seed(runtime: Runtime): Promise<void> {
  const { store } = runtime;
  await store.beginBatch('old', 'm.jsonl');
  await store.put(record({ batch: 'old', line: 1, subject: 'ana', transactionId: 'o1' }));
  await store.put(record({ batch: 'old', line: 2, subject: 'bo', transactionId: 'o2', status: 'rejected', verdict: null }));
  await store.appendAttempts([
    attempt({ batch: 'old', line: 1, subject: 'ana', transactionId: 'o1-a', httpStatus: 503, code: 'HTTP_503' }),
    attempt({ batch: 'old', line: 1, subject: 'ana', transactionId: 'o1' }),
    attempt({ batch: 'old', line: 2, subject: 'bo', transactionId: 'o2' }),
  ]);
  await store.finishBatch('old', { total: 2, maxLine: 2 });
  await store.beginBatch('new', 'n.jsonl');
  await store.put(record({ batch: 'new', line: 1, subject: 'ana', transactionId: 'n1' }));
  await store.appendAttempts([attempt({ batch: 'new', line: 1, subject: 'ana', transactionId: 'n1' })]);
  await store.recordRunSettings('old', RUN_SETTINGS, '2024-05-01T10:00:00.000Z');
  // Review cases: ana in both batches (one decided twice), bo in the old one.
  const [anaOld] = await runtime.cases.openCases([opening('old', 'ana'), opening('new', 'ana', ['new-bad'], [caseLine(1, { label: 'new', kind: 'new', baseline: null, reasons: ['new-bad'] })]), opening('old', 'bo', ['worse'], [caseLine(2)])]);
  await runtime.cases.decide(anaOld!.id, { decision: 'escalate', note: 'second look', reviewer: 'ann' });
  await runtime.cases.decide(anaOld!.id, { decision: 'confirmed-fraud', note: 'same face as bo', reviewer: 'rita' });
}

const RUN_SETTINGS = {
  rescreenVersion: '0.1.0',
  vendor: 'ooto',
  baseUrl: 'http://127.0.0.1:4010',
  simulator: true,
  identifyMatchThreshold: 0.75,
  keepResponse: 'minimal',
  maxResponseBytes: 65_536,
} as const;

describe.each(STORE_KINDS)('forget and purge (%s store)', (store) => {
  it('forget erases a subject everywhere and says how much; purge drops whole finished batches only', async () => {
    h = await createHarness('erase', {}, {}, { store });
    await seed(await h.openRuntime());
    // `subject` shows the subject's cases and decisions beside its screenings.
    const before = await runCli(['subject', 'ana'], h.env);
    expect(before.code, before.stderr).toBe(0);
    expect(before.stdout).toMatch(/^\S+\s+old\s.*\sc[0-9a-f]{16} confirmed-fraud$/m);
    expect(before.stdout).toMatch(/^\S+\s+new\s.*\sc[0-9a-f]{16} open$/m);
    expect(before.stdout).toContain('2 review cases:');
    expect(before.stdout).toMatch(/^case c[0-9a-f]{16} {2}batch old {2}worse {2}genuine → deepfake {2}opened .* {2}decided$/m);
    expect(before.stdout).toMatch(/^ {2}decision #1 {2}\S+ {2}escalate by ann: second look$/m);
    expect(before.stdout).toMatch(/^ {2}decision #2 {2}\S+ {2}confirmed-fraud by rita: same face as bo$/m);
    expect(before.stdout).toMatch(/^case c[0-9a-f]{16} {2}batch new {2}new-bad {2}new {2}opened .* {2}open$/m);
    expect(before.stdout).not.toContain('batch old  worse  genuine → deepfake  opened .*  open');
    const forget = await runCli(['forget', '--subject', 'ana'], h.env);
    expect(forget.code, forget.stderr).toBe(0);
    expect(forget.stdout).toMatch(/^subject "ana": erased 2 records, 3 attempt rows, 2 review cases and 2 decisions; tombstone kept \(\d{4}-\d\d-\d\dT[\d:.]+Z, counts only\)\n$/);
    // The cases and decisions are gone (bo's stays); the tombstone holds a date and counts, not who.
    const after = await runCli(['subject', 'ana'], h.env);
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(/no record of subject "ana"/);
    expect((await runCli(['review', 'list', '--subject', 'ana', '--format', 'jsonl'], h.env)).stdout).toBe('');
    const left = await runCli(['review', 'export', '--format', 'jsonl'], h.env);
    expect(left.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { subject: string }).subject)).toEqual(['bo']);
    expect((await runCli(['review', 'export', '--decisions'], h.env)).stdout).toBe('');
    const erasures = await runCli(['erasures', '--json'], h.env);
    expect(erasures.code, erasures.stderr).toBe(0);
    const tombstones = erasures.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(tombstones).toEqual([{ at: expect.stringMatching(/^\d{4}-/), records: 2, attempts: 3, cases: 2, decisions: 2 }]);
    expect(erasures.stdout).not.toContain('ana');
    // Again: nothing left to erase, and a second tombstone says so.
    expect((await runCli(['forget', '--subject', 'ana'], h.env)).stdout).toMatch(/erased 0 records, 0 attempt rows, 0 review cases and 0 decisions/);
    expect((await runCli(['erasures'], h.env)).stdout).toMatch(/^\S+Z {2}0 records, 0 attempt rows, 0 cases, 0 decisions\n\S+Z {2}2 records, 3 attempt rows, 2 cases, 2 decisions\n$/);
    const gone = await runCli(['result', 'o1-a'], h.env);
    expect(gone.code).toBe(1);
    expect((await runCli(['result', 'o2'], h.env)).code).toBe(0);

    const bad = await runCli(['purge', '--before', 'yesterday'], h.env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--before must be an ISO 8601 date/);
    const none = await runCli(['purge', '--before', '2000-01-01'], h.env);
    expect(none.stdout).toMatch(/^purged 0 batches/);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const purge = await runCli(['purge', '--before', future], h.env);
    expect(purge.code, purge.stderr).toBe(0);
    // `old` finished (its one remaining record, one attempt row); `new` never finished: kept.
    expect(purge.stdout).toBe(`purged 1 batch finished before ${future}: 1 record, 1 attempt row\n`);
    const batches = await runCli(['batches'], h.env);
    expect(batches.stdout).not.toMatch(/^old\s/m);
    expect(batches.stdout).toMatch(/^new\s/m);
    // A dozen CLI runs on both stores: on a loaded box more than the default 180 s.
  }, 600_000);
});

describe('db migrate and store copy', () => {
  it('db migrate applies once, then says up to date; without RESCREEN_STORE_URL it says why not', async () => {
    h = await createHarness('dbm');
    const schema = freshSchema('dbm');
    schemas.push(schema);
    const env = { ...h.env, RESCREEN_STORE_URL: storeUrl(schema) };
    const first = await runCli(['db', 'migrate'], env);
    expect(first.code, first.stderr).toBe(0);
    // Every migration file, in order (later issues add theirs).
    const all = await loadMigrations();
    const latest = all[all.length - 1]!.version;
    expect(first.stdout).toMatch(new RegExp(`^schema ${schema}: applied ${all.map((m) => m.name).join(', ')} \\(now version ${latest}\\)`));
    expect(all.map((m) => m.name)).toContain('006_run_settings');
    expect((await runCli(['db', 'migrate'], env)).stdout).toBe(`schema ${schema} is up to date (version ${latest})\n`);
    const without = await runCli(['db', 'migrate'], h.env);
    expect(without.code).toBe(2);
    expect(without.stderr).toMatch(/RESCREEN_STORE_URL is not set/);
    const down = await runCli(['batches'], { ...h.env, RESCREEN_STORE_URL: 'postgres://nobody:s3cret-pw@127.0.0.1:1/none' });
    expect(down.code).not.toBe(0);
    expect(down.stderr).toMatch(/the result store at postgres:\/\/nobody:\*\*\*@127\.0\.0\.1:1\/none cannot be used/);
    expect(down.stderr).not.toContain('s3cret-pw');
  });

  it('store copy moves every batch, record and attempt row from Redis to PostgreSQL, idempotently', async () => {
    h = await createHarness('copy');
    const runtime = await h.openRuntime();
    await seed(runtime);
    const schema = freshSchema('copy');
    schemas.push(schema);
    const to = storeUrl(schema);
    for (const round of [1, 2]) {
      const copy = await runCli(['store', 'copy', '--to', to], h.env);
      expect(copy.code, copy.stderr).toBe(0);
      expect(copy.stdout).toBe(`copied 2 batches: 3 records, ${round === 1 ? '4 attempt rows (0 rows' : '0 attempt rows (4 rows'} already there)\n`);
    }
    const pool = createPgPool({ connectionString: pgUrl(), schema });
    try {
      const pg = new PgResultStore(pool);
      for (const batch of ['old', 'new']) {
        expect(await pg.summary(batch)).toEqual(await runtime.store.summary(batch));
        const a = [];
        for await (const r of pg.stream(batch)) a.push(r);
        const b = [];
        for await (const r of runtime.store.stream(batch)) b.push(r);
        expect(a).toEqual(b);
        expect((await pg.attemptsOf(batch, 1)).length).toBe((await runtime.store.attemptsOf(batch, 1)).length);
        expect(await pg.runSettings(batch)).toEqual(await runtime.store.runSettings(batch));
      }
      expect(await pg.runSettings('old')).toHaveLength(1);
      expect(await pg.listBatches()).toEqual(await runtime.store.listBatches());
      expect((await pg.attemptByTransactionId('o1-a'))?.line).toBe(1);
    } finally {
      await pool.end();
    }
    const refused = await runCli(['store', 'copy', '--to', to], { ...h.env, RESCREEN_STORE_URL: to });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/store copy reads the Redis store/);
    expect(await schemaExists(schema)).toBe(true);
  });
});
