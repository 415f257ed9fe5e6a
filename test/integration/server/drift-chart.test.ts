/**
 * The batch page's drift chart in a real headless Chromium (Debian's `chromium`, driven by
 * playwright-core): after two nights of the same 200 subjects and a canary set, the simulator's OOTO
 * scores moved −0.1 between them, the second night's page draws both score histograms overlaid as
 * SVG (d3, served by rescreen at /vendor/d3.js: no request leaves the server) with the PSI, the
 * drift alert and the canary line; the first night's draws its own histogram only. The chart's
 * screenshot goes to test-output/browser/drift-chart.png (docs/drift-chart.png is a copy of one).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueBatch, startWorkers, waitForBatch, type WorkerHandle } from '../../../src/app/index.js';
import { photo } from '../../../src/testing/index.js';
import { createHarness, type Harness } from '../../helpers/pipeline.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'drift-chart-token-5d1e7a93c4';
const SUBJECTS = 200;
const OUT = new URL('../../../test-output/browser/', import.meta.url).pathname;

let h: Harness;
let s: TestServer;
let workers: WorkerHandle;
let context: BrowserContext;
let profile: string;
let base: string;
const problems: string[] = [];
const requests: string[] = [];

async function night(batch: string, manifest: string, canary: string): Promise<void> {
  await enqueueBatch(s.runtime, { manifest, batch, canary });
  await waitForBatch(s.runtime, batch, { pollMs: 100 });
}

beforeAll(async () => {
  await mkdir(OUT, { recursive: true });
  h = await createHarness('drift-chart', { scoreNoise: 0.02, randomSeed: 7 });
  s = await startTestServer(h, { RESCREEN_API_TOKEN: TOKEN });
  base = await s.app.listen({ port: 0, host: '127.0.0.1' });
  const lines = [];
  for (let i = 0; i < SUBJECTS; i++) lines.push({ ref: await h.file(`m/${i}.jpg`, photo({ seed: i + 1, outcome: i % 7 === 3 ? 'deepfake' : 'genuine' })), check: 'ooto-deepfake', subject: `cust-${i}` });
  const manifest = await h.manifest('nightly.jsonl', lines);
  const canaries = [];
  for (let i = 0; i < 10; i++) {
    canaries.push({ ref: await h.file(`canary/g${i}.jpg`, photo({ seed: 900 + i, score: 0.93 + 0.005 * i })), subject: `canary-g${i}`, check: 'ooto-deepfake', expect: 'genuine' });
    canaries.push({ ref: await h.file(`canary/f${i}.jpg`, photo({ seed: 950 + i, score: 0.12 + 0.03 * i })), subject: `canary-f${i}`, check: 'ooto-deepfake', expect: 'deepfake' });
  }
  const canary = await h.manifest('canary.jsonl', canaries);
  workers = startWorkers(s.runtime, { concurrency: 8 });
  await night('night-1', manifest, canary);
  // The vendor ships a new model: every OOTO deepfake score 0.1 lower (and the noise as before).
  h.sim.configure({ scoreShift: { ooto: -0.1 } });
  await night('night-2', manifest, canary);

  profile = await mkdtemp(join(tmpdir(), 'rescreen-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 170_000);

afterAll(async () => {
  await context?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
  await workers?.close();
  await s?.close();
  await h?.close();
});

function watch(page: Page): void {
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().includes('401')) problems.push(`console: ${m.text()}`);
  });
  page.on('request', (r) => requests.push(r.url()));
}

describe('the batch page draws the drift chart', () => {
  it('serves the chart library itself: /vendor/d3.js (d3 modules from package.json)', async () => {
    const res = await s.app.inject({ url: '/vendor/d3.js' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/javascript/);
    for (const m of ['d3-scale', 'd3-shape', 'd3-axis', 'd3-selection']) expect(res.body).toContain(`https://d3js.org/${m}/`);
  });

  it('night 2: both histograms overlaid as SVG, the PSI, the drift alert and the canaries; night 1: its own only', async () => {
    const page = context.pages()[0] ?? (await context.newPage());
    watch(page);
    await page.goto(`${base}/#/batch/night-2`);
    await page.getByRole('dialog', { name: 'API token' }).waitFor();
    await page.getByRole('textbox', { name: 'Token' }).fill(TOKEN);
    await page.getByRole('button', { name: 'Use token' }).click();

    const svg = page.locator('#drift svg.drift-chart[data-check="ooto-deepfake"]');
    await svg.waitFor({ timeout: 30_000 });
    const series = svg.locator('path.series');
    await expect.poll(() => series.count()).toBe(2);
    expect(await Promise.all((await series.all()).map(async (p) => [await p.getAttribute('data-series'), await p.getAttribute('data-batch')]))).toEqual([
      ['against', 'night-1'],
      ['batch', 'night-2'],
    ]);
    // Real areas: a step per bin (20 bins, 21 points, each step two path commands), not empty paths.
    const lengths = await series.evaluateAll((paths) => paths.map((p) => (p as unknown as { getTotalLength(): number }).getTotalLength()));
    for (const l of lengths) expect(l).toBeGreaterThan(100);
    // Axes drawn by d3-axis: ticks 0.0 … 1.0 on the score axis.
    expect(await svg.locator('g.tick').count()).toBeGreaterThanOrEqual(11);
    const psiText = (await svg.locator('text.psi').textContent()) ?? '';
    expect(psiText).toMatch(/^ooto-deepfake · PSI \d+\.\d{3} shift · KS \d\.\d{3}$/);
    expect(Number(/PSI (\S+)/.exec(psiText)![1])).toBeGreaterThan(0.25);
    expect(await page.locator('#drift figcaption').first().textContent()).toContain('against night-1');
    await expect.poll(() => page.locator('#drift-alert').isVisible()).toBe(true);
    expect(await page.locator('#drift-canary').textContent()).toMatch(/^canaries 10\/20 agree · mean moved -0\.\d{3} against night-1 · 10 flipped · CANARY ALERT/);
    expect(await page.locator('#drift-rule').textContent()).toContain('PSI < 0.1 stable');
    await page.locator('#drift').screenshot({ path: join(OUT, 'drift-chart.png') });
    await page.screenshot({ path: join(OUT, 'drift-batch-page.png'), fullPage: true });

    await page.goto(`${base}/#/batch/night-1`);
    const first = page.locator('#drift svg.drift-chart');
    await expect.poll(() => page.locator('#batch-title').textContent()).toBe('Batch night-1');
    await expect.poll(async () => Promise.all((await first.locator('path.series').all()).map((p) => p.getAttribute('data-batch')))).toEqual(['night-1']);
    expect(await first.locator('text.psi').textContent()).toBe('ooto-deepfake · no earlier batch of this check');
    expect(await page.locator('#drift-alert').isVisible()).toBe(false);

    expect(problems).toEqual([]);
    // Everything the page loaded came from rescreen itself: no CDN.
    expect(requests.filter((u) => !u.startsWith(base) && !u.startsWith('data:'))).toEqual([]);
    expect(requests.some((u) => u === `${base}/vendor/d3.js`)).toBe(true);
  });
});
