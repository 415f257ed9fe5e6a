/**
 * `serve --queues-ui` in Debian's headless Chromium (playwright-core): a browser that opens /queues
 * gets the login form, a read token is refused there, an operator token logs it in, and Bull Board
 * then renders rescreen's queues (the vendors', notifications, review, schedules) with the batch's
 * queued jobs; logging out sends it back to the form. The screenshot goes to
 * test-output/browser/queues-ui.png (docs/queues-ui.png is a copy of one).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueBatch } from '../../../src/app/index.js';
import { sampleJpeg, sampleMp4 } from '../../../src/simulator/sample-media.js';
import { createHarness, type Harness } from '../../helpers/pipeline.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const CHROMIUM = '/usr/bin/chromium';
const OPERATOR = 'op-token-6c2a8e4f0b1d3a79';
const READER = 'read-token-1b3d5f7a9c0e2d48';
const SHOT = new URL('../../../test-output/browser/queues-ui.png', import.meta.url).pathname;
const QUEUES = ['ooto', 'glair', 'notifications', 'review', 'schedules'];

let h: Harness;
let s: TestServer;
let context: BrowserContext;
let profile: string;
let base: string;
const problems: string[] = [];

beforeAll(async () => {
  h = await createHarness('queues-ui-browser');
  const lines = [];
  for (const n of [1, 2, 3, 4]) lines.push({ ref: await h.file(`m/${n}.jpg`, sampleJpeg({ seed: n })), check: 'ooto-deepfake', subject: `cust-${n}` });
  for (const n of [1, 2]) lines.push({ ref: await h.file(`m/${n}.mp4`, sampleMp4({ seed: n })), check: 'glair-video', subject: `cust-${n}` });
  s = await startTestServer(h, { RESCREEN_API_TOKENS: `olga:operator:${OPERATOR},dash:read:${READER}` }, {}, { queuesUi: true });
  // No worker runs: the jobs stay queued for the board to show.
  await enqueueBatch(s.runtime, { manifest: await h.manifest('m.jsonl', lines), batch: 'night-1' });
  base = await s.app.listen({ port: 0, host: '127.0.0.1' });
  profile = await mkdtemp(join(tmpdir(), 'rescreen-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 860 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 180_000);

afterAll(async () => {
  await context?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
  await s?.close();
  await h?.close();
});

function watch(page: Page): void {
  page.on('response', (r) => {
    if (r.status() >= 400 && !/\/queues\/?$|\/queues\/login$/.test(r.url())) problems.push(`${r.status()} ${r.request().method()} ${r.url()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    const text = m.text();
    // The 401/403 answers are the login form's, and the board's Google Fonts link is refused by our CSP on purpose.
    if (m.type() === 'error' && !/\b(401|403)\b/.test(text) && !/fonts\.googleapis\.com/.test(text)) problems.push(`console: ${text} (${m.location().url})`);
  });
}

describe('queue UI in headless Chromium', () => {
  it('logs an operator in through the form and shows rescreen\'s queues; a read token is refused', async () => {
    const page = context.pages()[0] ?? (await context.newPage());
    watch(page);
    const first = await page.goto(`${base}/queues`);
    expect(first?.status()).toBe(401);
    await page.getByLabel('Operator token').fill(READER);
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('not an operator');
    expect((await context.cookies()).filter((c) => c.name === 'rescreen_queues')).toEqual([]);

    await page.getByLabel('Operator token').fill(OPERATOR);
    await page.getByRole('button', { name: 'Log in' }).click();
    // Back where it started (the form carries the page asked for).
    await page.waitForURL(`${base}/queues`);
    const [cookie] = (await context.cookies()).filter((c) => c.name === 'rescreen_queues');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/queues' });
    expect(cookie!.value).not.toContain(OPERATOR);

    // Bull Board renders every queue by name, the vendor queues with their queued jobs.
    for (const name of QUEUES) await page.getByRole('link', { name, exact: true }).first().waitFor({ timeout: 30_000 });
    const body = (await page.locator('body').textContent()) ?? '';
    expect(body).toContain('rescreen queues');
    expect(body).toContain(`prefix ${h.prefix} · read-only`);
    await page.getByRole('link', { name: 'ooto', exact: true }).first().click();
    await page.waitForURL(/\/queues\/queue\/ooto/);
    await expect.poll(() => page.locator('body').textContent(), { timeout: 30_000 }).toContain('night-1#1');
    await page.goto(`${base}/queues/`);
    for (const name of QUEUES) await page.getByRole('link', { name, exact: true }).first().waitFor();
    await page.waitForTimeout(500);
    await page.screenshot({ path: SHOT, fullPage: true });

    // The board's API answered the page, and nothing on it went wrong.
    expect(problems).toEqual([]);

    // Logging out (the board's menu, last in its header) forgets the cookie: the board asks again.
    await page.locator('header ul > li').last().locator('button').click();
    await page.getByText('Log out', { exact: true }).click();
    await page.waitForURL(`${base}/queues/login`);
    expect((await context.cookies()).filter((c) => c.name === 'rescreen_queues')).toEqual([]);
    expect((await page.goto(`${base}/queues/`))?.status()).toBe(401);
  }, 150_000);
});
