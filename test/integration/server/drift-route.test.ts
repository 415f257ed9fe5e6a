/**
 * Where drift shows outside the CLI (issue 21): `GET /api/batches/{id}/drift` and the Prometheus
 * gauges `rescreen_drift_psi{check}` / `rescreen_drift_alert{check}`, after two nights of the same 60
 * subjects where the simulator's OOTO scores moved between them (its scripted score shift).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueBatch, startWorkers, waitForBatch, type WorkerHandle } from '../../../src/app/index.js';
import { sampleJpeg } from '../../../src/simulator/sample-media.js';
import { createHarness, type Harness } from '../../helpers/pipeline.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const READ = 'read-token-4f2a6c8e0b1d3a57';
const as = { authorization: `Bearer ${READ}` };
const SUBJECTS = 60;

let h: Harness;
let s: TestServer;
let workers: WorkerHandle;

async function night(batch: string): Promise<void> {
  const lines = [];
  for (let i = 0; i < SUBJECTS; i++) lines.push({ ref: await h.file(`m/${i}.jpg`, sampleJpeg({ seed: 100 + i })), check: 'ooto-deepfake', subject: `cust-${i}` });
  await enqueueBatch(s.runtime, { manifest: await h.manifest(`${batch}.jsonl`, lines), batch });
  await waitForBatch(s.runtime, batch);
}

beforeAll(async () => {
  h = await createHarness('drift-route');
  s = await startTestServer(h, { RESCREEN_API_TOKENS: `ro:read:${READ}` });
  workers = startWorkers(s.runtime, { concurrency: 4 });
  await night('night-1');
  // The vendor's model moves between the nights: every OOTO score 0.3 lower.
  h.sim.configure({ scoreShift: { ooto: -0.3 } });
  await night('night-2');
}, 170_000);

afterAll(async () => {
  await workers?.close();
  await s?.close();
  await h?.close();
});

describe('drift on the HTTP API and in /metrics', () => {
  it('GET /api/batches/{id}/drift: histograms, PSI above 0.25 against the previous night, the alert; 404 for an unknown batch', async () => {
    const res = await s.app.inject({ url: '/api/batches/night-2/drift', headers: as });
    expect(res.statusCode, res.body).toBe(200);
    const report = JSON.parse(res.body) as { batch: string; alert: boolean; rule: string; checks: { check: string; against: string | null; bins: number[]; againstBins: number[] | null; all: { psi: number | null; n: number } }[] };
    expect(report.batch).toBe('night-2');
    expect(report.rule).toMatch(/PSI < 0\.1 stable/);
    const check = report.checks.find((c) => c.check === 'ooto-deepfake');
    expect(check).toMatchObject({ against: 'night-1', all: { n: SUBJECTS } });
    expect(check!.bins.reduce((a, b) => a + b, 0)).toBe(SUBJECTS);
    expect(check!.againstBins!.reduce((a, b) => a + b, 0)).toBe(SUBJECTS);
    expect(check!.all.psi!).toBeGreaterThan(0.25);
    expect(report.alert).toBe(true);

    // The first night has nothing to compare with: no PSI, no alert.
    const first = JSON.parse((await s.app.inject({ url: '/api/batches/night-1/drift', headers: as })).body) as typeof report;
    expect(first.checks.find((c) => c.check === 'ooto-deepfake')).toMatchObject({ against: null, all: { psi: null } });

    const missing = await s.app.inject({ url: '/api/batches/no-such-night/drift', headers: as });
    expect(missing.statusCode, missing.body).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect((await s.app.inject({ url: '/api/batches/night-2/drift' })).statusCode).toBe(401);
  });

  it('GET /api/batches/{id}/changes carries the warning that the vendor moved too (night 2), and none for night 1', async () => {
    const page = async (batch: string) => {
      const res = await s.app.inject({ url: `/api/batches/${batch}/changes?limit=5`, headers: as });
      expect(res.statusCode, res.body).toBe(200);
      return JSON.parse(res.body) as { warning: string | null; changes: unknown[] };
    };
    const second = await page('night-2');
    expect(second.warning).toContain("the vendor's scores moved too: some of these changes may be the vendor's");
    expect(second.changes).toHaveLength(5);
    expect((await page('night-1')).warning).toBeNull();
  });

  it('/metrics: rescreen_drift_psi and rescreen_drift_alert per check, from the last night with a PSI', async () => {
    // `status` of the batch keeps its drift report (as the dashboard and `rescreen status` do).
    expect((await s.app.inject({ url: '/api/batches/night-2', headers: as })).statusCode).toBe(200);
    const text = (await s.app.inject({ url: '/metrics', headers: as })).body;
    const psi = /^rescreen_drift_psi\{check="ooto-deepfake"\} (\S+)$/m.exec(text);
    expect(psi, text.split('\n').filter((l) => l.includes('drift')).join('\n')).not.toBeNull();
    expect(Number(psi![1])).toBeGreaterThan(0.25);
    expect(text).toMatch(/^rescreen_drift_alert\{check="ooto-deepfake"\} 1$/m);
  });
});
