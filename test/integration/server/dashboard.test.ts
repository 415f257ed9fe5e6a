/**
 * The dashboard in a real headless Chromium (Debian's `chromium`, driven by playwright-core): it
 * asks for the token, shows a running batch whose progress bar advances to 100 % without a reload,
 * finds a record by transaction id, and downloads the CSV. Screenshots go to test-output/browser/.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSchedule, enqueueBatch, startWorkers, type WorkerHandle } from '../../../src/app/index.js';
import { sampleJpeg } from '../../../src/simulator/sample-media.js';
import { createHarness, type Harness } from '../../helpers/pipeline.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'dash-token-61c0e9a4b7d25f38';
const LINES = 24;
const OUT = new URL('../../../test-output/browser/', import.meta.url).pathname;

let h: Harness;
let s: TestServer;
let workers: WorkerHandle | undefined;
let context: BrowserContext;
let profile: string;
let base: string;
const problems: string[] = [];

beforeAll(async () => {
  await mkdir(OUT, { recursive: true });
  // About 10 s of work: the page's 1 s poll sees the bar move even when a loaded box slows it.
  h = await createHarness('dashboard', { latencyMs: 900 });
  s = await startTestServer(h, { RESCREEN_API_TOKEN: TOKEN });
  base = await s.app.listen({ port: 0, host: '127.0.0.1' });
  profile = await mkdtemp(join(tmpdir(), 'rescreen-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1280, height: 860 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  await context?.close();
  await rm(profile, { recursive: true, force: true });
  await workers?.close();
  await s?.close();
  await h?.close();
});

function watch(page: Page): void {
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().includes('401')) problems.push(`console: ${m.text()}`);
  });
}

describe('dashboard in headless Chromium', () => {
  it('follows a running batch to 100 %, finds a record by transaction id, downloads the CSV', async () => {
    const lines = [];
    for (let i = 0; i < LINES; i++) lines.push({ ref: await h.file(`p${i}.jpg`, sampleJpeg({ seed: i + 1, ...(i % 7 === 3 ? { directives: 'noface' } : {}) })), check: 'ooto-deepfake', subject: `cust-${i}` });
    lines.push({ ref: join(h.dir, 'missing.jpg'), check: 'ooto-deepfake', subject: 'cust-missing' });
    await enqueueBatch(s.runtime, { manifest: await h.manifest('m.jsonl', lines), batch: 'dash-1' });

    const page = context.pages()[0] ?? (await context.newPage());
    watch(page);
    await page.goto(`${base}/`);
    // A token is configured: the page asks for it.
    const dialog = page.getByRole('dialog', { name: 'API token' });
    await dialog.waitFor();
    await page.getByRole('textbox', { name: 'Token' }).fill(TOKEN);
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.getByRole('link', { name: 'dash-1' }).waitFor();

    // A mark on this document: a full reload would lose it.
    await page.evaluate('window.__sameDocument = true');
    // Workers start now: the bar has to move while the page is open.
    workers = startWorkers(s.runtime, { concurrency: 2 });
    await page.getByRole('link', { name: 'dash-1' }).click();
    const bar = page.locator('#batch-progress');
    const seen = new Set<number>();
    const deadline = Date.now() + 90_000;
    let shot = false;
    for (;;) {
      const value = Number(await bar.getAttribute('value'));
      seen.add(value);
      if (!shot && value > 20 && value < 100) {
        await page.screenshot({ path: join(OUT, 'batch-running.png'), fullPage: true });
        shot = true;
      }
      if (value === 100) break;
      if (Date.now() > deadline) throw new Error(`progress stuck at ${value} %`);
      await page.waitForTimeout(200);
    }
    expect(await page.evaluate('window.__sameDocument === true')).toBe(true); // no full reload
    const steps = [...seen].filter((v) => v > 0 && v < 100);
    expect(steps.length, `values seen: ${[...seen].join(', ')}`).toBeGreaterThanOrEqual(2);
    await expect.poll(() => page.locator('#batch-progress-label').textContent()).toContain('100 %');
    await expect.poll(() => page.locator('#failures tbody').textContent()).toContain('MEDIA_NOT_FOUND');
    await expect.poll(() => page.locator('#verdict-chart').textContent()).toMatch(/genuine\d+/);
    await page.screenshot({ path: join(OUT, 'batch-finished.png'), fullPage: true });

    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download CSV' }).click();
    const file = join(OUT, 'dash-1.csv');
    await (await download).saveAs(file);
    const csv = (await readFile(file, 'utf8')).trim().split('\n');
    expect(csv[0]).toMatch(/^batch,line,subject/);
    expect(csv).toHaveLength(LINES + 2);

    const record = await s.runtime.store.get('dash-1', 5);
    const tx = record!.transactionId!;
    await page.getByLabel('Search by').selectOption('record');
    await page.getByLabel('Transaction id or subject').fill(tx);
    await page.getByRole('button', { name: 'Search' }).click();
    const article = page.getByRole('article', { name: `record ${tx}` });
    await article.waitFor();
    expect(await article.textContent()).toContain('cust-4');
    await page.screenshot({ path: join(OUT, 'record.png'), fullPage: true });
    await article.getByRole('link', { name: 'batch dash-1' }).click();
    await expect.poll(() => page.locator('#batch-title').textContent()).toBe('Batch dash-1');

    await page.getByLabel('Search by').selectOption('subject');
    await page.getByLabel('Transaction id or subject').fill('cust-7');
    await page.getByRole('button', { name: 'Search' }).click();
    // The subject page is a timeline: one row per screening (cust-7 is line 8 of dash-1).
    await expect.poll(() => page.getByRole('table', { name: 'screenings of cust-7' }).textContent()).toContain('dash-1:8');
    expect(await page.locator('#records-title').textContent()).toBe('Subject cust-7');

    await addSchedule(s.runtime, { name: 'nightly', manifest: join(h.dir, 'm.jsonl'), cron: '0 2 * * *', tz: 'Europe/Paris' });
    await page.goto(`${base}/`);
    await page.getByRole('link', { name: 'dash-1' }).first().waitFor();
    await expect.poll(() => page.locator('#schedules tbody').textContent()).toMatch(/nightlycron 0 2 \* \* \* \(Europe\/Paris\)\d{4}-\d\d-\d\dT0[01]:00:00\.000Z/);
    await expect.poll(() => page.locator('#batches tbody').textContent()).toContain('done');
    await page.screenshot({ path: join(OUT, 'home.png'), fullPage: true });
    expect(problems).toEqual([]);
  }, 150_000);
});
