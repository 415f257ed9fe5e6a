/**
 * Issue 21's acceptance, the nightly story: twenty nights of the same 500 subjects, each night with
 * the same canary set of 20 (10 genuine, 10 deepfake), answered by the testing kit's simulator
 * (`rescreen/testing`) with score noise and no shift: no drift alert on any night (the PSI range is
 * printed: README, Score drift). Then a 21st night after the vendor's model moved (−0.1 on OOTO's
 * deepfake scores): PSI above 0.25, the canary alert, `changes` headed by the warning, and the
 * `batch.finished` webhook — received by a real local HTTP receiver, its Standard Webhooks signature
 * verified — saying so in its `drift`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchDrift, enqueueBatch, startWorkers, VENDOR_MOVED_WARNING, vendorMovedWarning, waitForBatch, type DriftSummary, type Runtime, type WorkerHandle } from '../../../src/app/index.js';
import { faceJpeg } from '../../../src/testing/faces.js';
import { startSimulator, type OutcomeRule, type TestSimulator } from '../../../src/testing/index.js';
import { createHarness, eventually, type Harness } from '../../helpers/pipeline.js';

const SUBJECTS = 500;
const NIGHTS = 20;
/** The simulator's night-to-night noise: every deepfake score moves by a uniform draw in [−0.02, +0.02]. */
const NOISE = 0.02;
const SECRET = 'whsec_dHdlbnR5LW5pZ2h0cy1vZi1kcmlmdC1pbi10aGUtdGVzdA==';

/** A delivery as the receiver verified it on arrival (the library refuses one older than 5 minutes). */
type Delivery = { readonly event: { event: string; batch: string; drift?: DriftSummary } } | { readonly refused: string };

let h: Harness;
let sim: TestSimulator;
let runtime: Runtime;
let workers: WorkerHandle;
let receiver: Server;
const deliveries: Delivery[] = [];
let manifest: string;
let canary: string;
const psiOf: number[] = [];

const nightId = (n: number) => `night-${String(n).padStart(2, '0')}`;

beforeAll(async () => {
  const hook = new Webhook(SECRET);
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      try {
        deliveries.push({ event: hook.verify(body, req.headers as Record<string, string>) as { event: string; batch: string; drift?: DriftSummary } });
        res.statusCode = 204;
      } catch (error) {
        deliveries.push({ refused: (error as Error).message });
        res.statusCode = 400;
      }
      res.end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/rescreen`;
  // Distinct face pictures (none a near duplicate of another: no ring joins them), each answered as
  // the testing kit's simulator is told: about one in seven a deepfake (scores 0.02–0.45 from its
  // bytes), the rest genuine (0.91–0.99).
  const rules: OutcomeRule[] = [];
  const media: Buffer[] = [];
  for (let i = 0; i < SUBJECTS; i++) {
    const bytes = await faceJpeg(i + 1);
    rules.push({ media: bytes, outcome: i % 7 === 3 ? 'deepfake' : 'genuine' });
    media.push(bytes);
  }
  // Canaries well clear of OOTO's 0.9 threshold (genuine 0.930–0.975, deepfake 0.12–0.39): noise of
  // ±0.02 never flips one, a model change of −0.1 moves every genuine one below it.
  const canaryMedia: { bytes: Buffer; subject: string; expect: string }[] = [];
  for (let i = 0; i < 10; i++) {
    for (const [kind, seed, score] of [['g', 9000 + i, 0.93 + 0.005 * i], ['f', 9100 + i, 0.12 + 0.03 * i]] as const) {
      const bytes = await faceJpeg(seed);
      rules.push({ media: bytes, outcome: { directives: `score=${score.toFixed(3)}` } });
      canaryMedia.push({ bytes, subject: `canary-${kind}${i}`, expect: kind === 'g' ? 'genuine' : 'deepfake' });
    }
  }
  sim = await startSimulator({ outcomes: rules, scoreDrift: { noise: NOISE, seed: 21 } });
  h = await createHarness('drift-nights', {}, { ...sim.env, RESCREEN_WEBHOOK_URL: url, RESCREEN_WEBHOOK_SECRET: SECRET, RESCREEN_CONCURRENCY: '16' });
  runtime = await h.openRuntime();
  const lines = [];
  for (let i = 0; i < SUBJECTS; i++) lines.push({ ref: await h.file(`m/${i}.jpg`, media[i]!), check: 'ooto-deepfake', subject: `cust-${i}` });
  manifest = await h.manifest('nightly.jsonl', lines);
  const canaries = [];
  for (const c of canaryMedia) canaries.push({ ref: await h.file(`canary/${c.subject}.jpg`, c.bytes), subject: c.subject, check: 'ooto-deepfake', expect: c.expect });
  canary = await h.manifest('canary.jsonl', canaries);
  workers = startWorkers(runtime, { concurrency: 16 });
}, 120_000);

afterAll(async () => {
  await workers?.close();
  await h?.close();
  await sim?.close();
  await new Promise((r) => receiver?.close(r));
});

/** One night: the manifest with the canary set, to the end. */
async function night(n: number): Promise<void> {
  const batch = nightId(n);
  const summary = await enqueueBatch(runtime, { manifest, batch, canary });
  expect(summary.lines).toBe(SUBJECTS + 20);
  const done = await waitForBatch(runtime, batch, { pollMs: 100 });
  expect(done?.byStatus).toMatchObject({ completed: SUBJECTS + 20, failed: 0, rejected: 0 });
}

/** The batch.finished deliveries so far, by batch; none refused by the receiver's signature check. */
function finishedEvents(): Map<string, { drift?: DriftSummary }> {
  const out = new Map<string, { drift?: DriftSummary }>();
  for (const d of deliveries) {
    if ('refused' in d) throw new Error(`the receiver refused a delivery: ${d.refused}`);
    if (d.event.event === 'batch.finished') out.set(d.event.batch, d.event);
  }
  return out;
}

describe('twenty quiet nights, then the vendor ships a new model', () => {
  it(`${NIGHTS} nights of ${SUBJECTS} subjects with noise ${NOISE} and no shift: no drift alert on any night`, async () => {
    const started = Date.now();
    const screening: number[] = [];
    const reading: number[] = [];
    for (let n = 1; n <= NIGHTS; n++) {
      const t0 = Date.now();
      await night(n);
      const t1 = Date.now();
      screening.push((t1 - t0) / 1000);
      const report = await batchDrift(runtime, nightId(n));
      const check = report.checks.find((c) => c.check === 'ooto-deepfake')!;
      expect(check.all.n).toBe(SUBJECTS); // the canaries are not in the figures
      if (n === 1) {
        expect(check.against).toBeNull();
      } else {
        expect(check.against).toBe(nightId(n - 1));
        expect(check.both.n).toBe(SUBJECTS);
        expect(check.all.reading, `night ${n}: PSI ${check.all.psi}`).toBe('stable');
        psiOf.push(check.all.psi!);
        expect(report.canary).toMatchObject({ lines: 20, agreed: 20, against: nightId(n - 1), flips: 0, alert: false });
      }
      expect(report.alert, `night ${n}`).toBe(false);
      expect(await vendorMovedWarning(runtime, nightId(n))).toBeNull();
      reading.push((Date.now() - t1) / 1000);
    }
    const seconds = (Date.now() - started) / 1000;
    const line = `drift acceptance: ${NIGHTS} nights × ${SUBJECTS + 20} calls in ${seconds.toFixed(0)} s; PSI night to night ${Math.min(...psiOf).toFixed(4)}–${Math.max(...psiOf).toFixed(4)} (mean ${(psiOf.reduce((a, b) => a + b, 0) / psiOf.length).toFixed(4)}), noise ±${NOISE}; a night's screening ${Math.min(...screening).toFixed(1)}–${Math.max(...screening).toFixed(1)} s, its drift report and warning ${Math.min(...reading).toFixed(1)}–${Math.max(...reading).toFixed(1)} s`;
    console.log(line);
    // Every night was announced, and no announcement raised the drift alert.
    const events = await eventually(async () => finishedEvents(), (m) => m.size === NIGHTS, 60_000);
    for (let n = 1; n <= NIGHTS; n++) expect(events.get(nightId(n))?.drift, nightId(n)).toMatchObject({ alert: false });
  }, 900_000);

  it('night 21, OOTO scores 0.1 lower: PSI above 0.25, the canary alert, the warning on `changes`, the webhook says so', async () => {
    expect(psiOf).toHaveLength(NIGHTS - 1); // the quiet nights ran
    sim.setScoreDrift({ shift: { ooto: -0.1 } });
    await night(NIGHTS + 1);
    const batch = nightId(NIGHTS + 1);
    const report = await batchDrift(runtime, batch);
    const check = report.checks.find((c) => c.check === 'ooto-deepfake')!;
    expect(check.against).toBe(nightId(NIGHTS));
    expect(check.all.psi!).toBeGreaterThan(0.25);
    expect(check.both.psi!).toBeGreaterThan(0.25);
    expect(check.all.reading).toBe('shift');
    // Every genuine canary now scores below 0.9: ten flips, and the mean moved about −0.1.
    expect(report.canary).toMatchObject({ lines: 20, against: nightId(NIGHTS), flips: 10, agreed: 10, alert: true });
    expect(report.canary!.meanShift!).toBeLessThan(-0.08);
    expect(report.alert).toBe(true);
    console.log(`drift acceptance: night 21 (−0.1 on ooto): PSI ${check.all.psi} (subjects in both ${check.both.psi}), KS ${check.all.ks}; canaries: ${report.canary!.flips} flipped, mean moved ${report.canary!.meanShift}`);

    const warning = await vendorMovedWarning(runtime, batch);
    expect(warning).toContain(VENDOR_MOVED_WARNING);
    expect(warning).toContain('DRIFT ALERT');
    expect(warning).toMatch(/CANARY ALERT/);

    const events = await eventually(async () => finishedEvents(), (m) => m.has(batch), 60_000);
    const drift = events.get(batch)!.drift!;
    expect(drift.alert).toBe(true);
    expect(drift.checks.find((c) => c.check === 'ooto-deepfake')).toMatchObject({ against: nightId(NIGHTS), reading: 'shift', n: SUBJECTS });
    expect(drift.checks.find((c) => c.check === 'ooto-deepfake')!.psi!).toBeGreaterThan(0.25);
    expect(drift.canary).toMatchObject({ alert: true, flips: 10 });
  }, 300_000);
});
