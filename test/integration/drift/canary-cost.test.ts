/**
 * Issue 21's acceptance, what a canary set costs and where it never shows: a set of 20 (10 genuine,
 * 10 deepfake) costs exactly 20 vendor calls in each batch (counted at the simulator, by media),
 * shows in the dry run's estimate (`rescreen enqueue --dry-run --canary`), and never appears in
 * `changes`, review cases or rings — on two batches whose canaries would otherwise produce all of
 * them: deepfake canaries with no baseline (`new-bad`), two pairs of canaries sharing media
 * (`shared`, sha256 ring links), and genuine canaries that turn deepfake on the second night
 * (`worse`), with review cases on (`--review default,ring`) and customers' lines that do open cases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allCases,
  batchChangeCounts,
  batchDrift,
  batchChangeRows,
  enqueueBatch,
  listRings,
  startWorkers,
  waitForBatch,
  type Change,
  type ReviewCase,
  type Ring,
  type Runtime,
  type WorkerHandle,
} from '../../../src/app/index.js';
import { faceJpeg } from '../../../src/testing/faces.js';
import { startSimulator, type OutcomeRule, type TestSimulator } from '../../../src/testing/index.js';
import { runCli } from '../../helpers/cli.js';
import { createHarness, eventually, sha256, type Harness } from '../../helpers/pipeline.js';

const CUSTOMERS = 40;
const CANARIES = 20;
const REVIEW = 'default,ring';

let h: Harness;
let sim: TestSimulator;
let runtime: Runtime;
let workers: WorkerHandle;
let manifest: string;
let canary: string;
/** sha256 of each distinct canary media (two pairs of canaries share theirs: 18 files for 20 lines). */
const canaryMedia = new Set<string>();

beforeAll(async () => {
  // Distinct face pictures (no two are near duplicates: only the shared bytes below link), each
  // answered with a set score by the testing kit's simulator.
  const rules: OutcomeRule[] = [];
  const scored = async (seed: number, score: number) => {
    const bytes = await faceJpeg(seed);
    rules.push({ media: bytes, outcome: { directives: `score=${score}` } });
    return bytes;
  };
  const customers: Buffer[] = [];
  for (let i = 0; i < CUSTOMERS; i++) {
    // cust-0 and cust-1 send the same photo (a shared-media case and a ring); every fifth is a deepfake.
    customers.push(i === 1 ? customers[0]! : await scored(i + 1, i % 5 === 4 ? 0.3 : 0.95));
  }
  const canaryBytes: { g: Buffer; f: Buffer }[] = [];
  for (let i = 0; i < 10; i++) {
    // canary-g1 has canary-g0's bytes, canary-f1 has canary-f0's: shared media, were they customers.
    canaryBytes.push(i === 1 ? canaryBytes[0]! : { g: await scored(700 + i, 0.95), f: await scored(800 + i, 0.2) });
  }
  sim = await startSimulator({ outcomes: rules });
  h = await createHarness('canary-cost', {}, { ...sim.env });
  runtime = await h.openRuntime();
  const lines = [];
  for (let i = 0; i < CUSTOMERS; i++) lines.push({ ref: await h.file(`m/${i}.jpg`, customers[i]!), check: 'ooto-deepfake', subject: `cust-${i}` });
  manifest = await h.manifest('nightly.jsonl', lines);
  const canaries = [];
  for (let i = 0; i < 10; i++) {
    const { g, f } = canaryBytes[i]!;
    canaryMedia.add(sha256(g)).add(sha256(f));
    canaries.push({ ref: await h.file(`canary/g${i}.jpg`, g), subject: `canary-g${i}`, check: 'ooto-deepfake', expect: 'genuine' });
    canaries.push({ ref: await h.file(`canary/f${i}.jpg`, f), subject: `canary-f${i}`, check: 'ooto-deepfake', expect: 'deepfake' });
  }
  expect(canaryMedia.size).toBe(18);
  canary = await h.manifest('canary.jsonl', canaries);
  workers = startWorkers(runtime, { concurrency: 8 });
}, 120_000);

afterAll(async () => {
  await workers?.close();
  await h?.close();
  await sim?.close();
});

/** Vendor calls so far whose media is one of the canaries'. */
function canaryCalls(): number {
  const byMedia = sim.stats().callsByMediaSha256;
  return [...canaryMedia].reduce((n, sha) => n + (byMedia[sha] ?? 0), 0);
}

async function night(batch: string): Promise<{ from: number; to: number }> {
  const before = { canary: canaryCalls(), total: sim.stats().totalCalls };
  const summary = await enqueueBatch(runtime, { manifest, batch, canary, review: REVIEW });
  expect(summary.canary).toEqual({ lines: CANARIES, from: CUSTOMERS + 1, to: CUSTOMERS + CANARIES });
  const done = await waitForBatch(runtime, batch, { pollMs: 100 });
  expect(done?.byStatus).toMatchObject({ completed: CUSTOMERS + CANARIES });
  // Exactly one call per canary line, and one per customer's line: nothing else was paid for.
  expect(canaryCalls() - before.canary).toBe(CANARIES);
  expect(sim.stats().totalCalls - before.total).toBe(CUSTOMERS + CANARIES);
  return summary.canary!;
}

async function collect<T>(rows: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const r of rows) out.push(r);
  return out;
}

const isCanarySubject = (s: string | null) => s !== null && s.startsWith('canary-');

/** The batch's cases, once the review scan opened the customers' cases it must (and the rings' ones). */
async function casesOf(batch: string, expected: (cases: ReviewCase[]) => boolean): Promise<ReviewCase[]> {
  return eventually(() => collect(allCases(runtime, { batch })), expected, 60_000);
}

function expectNoCanaryIn(changes: readonly Change[], cases: readonly ReviewCase[], range: { from: number; to: number }): void {
  expect(changes.filter((c) => isCanarySubject(c.subject) || c.line >= range.from)).toEqual([]);
  expect(changes).toHaveLength(CUSTOMERS);
  expect(cases.filter((c) => isCanarySubject(c.subject) || c.lines.some((l) => l.line >= range.from))).toEqual([]);
}

describe('a canary set of 20', () => {
  it('shows in the dry run estimate (CLI and app layer), and the dry run calls nobody', async () => {
    const cli = await runCli(['enqueue', manifest, '--dry-run', '--canary', canary, '--batch', 'dry-1'], h.env);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toContain(`${CUSTOMERS + CANARIES} lines: would enqueue ${CUSTOMERS + CANARIES}`);
    expect(cli.stdout).toContain(`canary set: ${CANARIES} lines (lines ${CUSTOMERS + 1}–${CUSTOMERS + CANARIES})`);
    expect(cli.stdout).toMatch(new RegExp(`paid calls: ${CUSTOMERS + CANARIES}\\b`));
    const without = await runCli(['enqueue', manifest, '--dry-run', '--batch', 'dry-1'], h.env);
    expect(without.stdout).toMatch(new RegExp(`paid calls: ${CUSTOMERS}\\b`));
    expect(without.stdout).not.toContain('canary set');

    const dry = await enqueueBatch(runtime, { manifest, batch: 'dry-2', canary, dryRun: true });
    expect(dry.lines).toBe(CUSTOMERS + CANARIES);
    expect(dry.canary).toMatchObject({ lines: CANARIES });
    expect(dry.estimate?.paidCalls).toBe(CUSTOMERS + CANARIES);
    expect(dry.estimate?.checks['ooto-deepfake']?.lines).toBe(CUSTOMERS + CANARIES);
    expect(sim.stats().totalCalls).toBe(0);
    expect(await runtime.store.summary('dry-2')).toBeNull();
  });

  it('night 1: 20 calls for the canaries; no canary in changes, cases (new-bad, shared) or rings', async () => {
    const range = await night('night-1');
    // The customers' cases: a new-bad case for each deepfake, shared and ring for cust-0 and cust-1.
    const deepfakes = Array.from({ length: CUSTOMERS }, (_, i) => i).filter((i) => i % 5 === 4).length;
    const cases = await casesOf('night-1', (cs) => cs.length === deepfakes + 2 && cs.filter((c) => c.reasons.includes('ring')).length === 2);
    expect(cases.find((c) => c.subject === 'cust-0')?.reasons).toEqual(expect.arrayContaining(['shared', 'ring']));
    const changes = await collect(await batchChangeRows(runtime, 'night-1'));
    expectNoCanaryIn(changes, cases, range);
    const counts = await batchChangeCounts(runtime, 'night-1');
    expect(counts.lines).toBe(CUSTOMERS);
    expect(counts.sharedMedia).toMatchObject({ files: 1, subjects: 2 });
    expect(counts.sharedMedia.list.flatMap((m) => m.subjects)).toEqual(['cust-0', 'cust-1']);

    const rings: Ring[] = await collect(listRings(runtime, {}));
    expect(rings.map((r) => [...r.subjects].sort())).toEqual([['cust-0', 'cust-1']]);
  });

  it('night 2, the vendor scores 0.1 lower: 20 calls again; the flipped canaries open no case and make no change', async () => {
    sim.setScoreDrift({ shift: { ooto: -0.1 } });
    const range = await night('night-2');
    // Every genuine customer (0.95 → 0.85) is now worse; the genuine canaries flipped the same way.
    const genuine = Array.from({ length: CUSTOMERS }, (_, i) => i).filter((i) => i % 5 !== 4).length;
    // (The ring's cases: the rings keep one link per pair of subjects, so night 2 ties cust-0 to
    // cust-1's night-1 record and only cust-0 gets a ring case of this batch.)
    const cases = await casesOf('night-2', (cs) => cs.filter((c) => c.reasons.includes('worse')).length === genuine && cs.some((c) => c.reasons.includes('ring')));
    const changes = await collect(await batchChangeRows(runtime, 'night-2'));
    expect(changes.filter((c) => c.kind === 'worse')).toHaveLength(genuine);
    expectNoCanaryIn(changes, cases, range);
    const rings: Ring[] = await collect(listRings(runtime, {}));
    expect(rings.flatMap((r) => r.subjects).filter(isCanarySubject)).toEqual([]);
    expect(rings.map((r) => [...r.subjects].sort())).toEqual([['cust-0', 'cust-1']]);
    // The canaries are where the vendor's move shows: every genuine one flipped.
    const drift = await batchDrift(runtime, 'night-2');
    expect(drift.canary).toMatchObject({ lines: CANARIES, flips: 10, alert: true });
  });
});
