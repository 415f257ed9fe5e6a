/**
 * The review and case pages in Debian's headless Chromium (playwright-core): a reviewer token decides
 * three cases by keyboard alone (x, c + note, e + note), and they appear in `rescreen review list`;
 * the batch page lists what changed, worse first, with links to the cases; the subject page is a
 * timeline; media the host policy refuses shows why instead of a broken image. The case page's
 * screenshot goes to test-output/browser/case-page.png (docs/case-page.png is a copy of one), so a
 * test run leaves the checkout as it found it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueBatch, listCases, startWorkers, type ReviewCase } from '../../../src/app/index.js';
import { sampleJpeg } from '../../../src/simulator/sample-media.js';
import { runCli } from '../../helpers/cli.js';
import { createHarness, eventually, type Harness } from '../../helpers/pipeline.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const CHROMIUM = '/usr/bin/chromium';
const OPERATOR = 'op-token-2b4d6f8a0c1e3a57';
const REVIEWER = 'rev-token-9e7c5a3b1d2f4a68';
const SHOT = new URL('../../../test-output/browser/case-page.png', import.meta.url).pathname;

let h: Harness;
let s: TestServer;
let context: BrowserContext;
let profile: string;
let base: string;
const problems: string[] = [];

async function night(batch: string, lines: readonly unknown[]): Promise<void> {
  const scans = async () => (await s.runtime.review.getJobCounts('completed')).completed ?? 0;
  const before = await scans();
  await enqueueBatch(s.runtime, { manifest: await h.manifest(`${batch}.jsonl`, lines), batch });
  const workers = startWorkers(s.runtime);
  try {
    await eventually(() => s.runtime.store.summary(batch), (x) => x !== null && x.finishedAt !== null);
    await eventually(scans, (n) => n > before);
    await eventually(() => workers.review.pendingCount(), (n) => n === 0);
  } finally {
    await workers.close();
  }
}

beforeAll(async () => {
  h = await createHarness('review-page');
  // The default media host policy (public addresses only), not the harness's loopback allowance.
  s = await startTestServer(h, { RESCREEN_API_TOKENS: `olga:operator:${OPERATOR},rita:reviewer:${REVIEWER}` }, { RESCREEN_MEDIA_ALLOW_HOSTS: '' });
  const subjects = ['cust-1', 'cust-2', 'cust-3', 'cust-4'];
  const lines = subjects.map((subject) => ({ ref: `${subject}.jpg`, check: 'ooto-deepfake', subject }));
  for (const [i, subject] of subjects.entries()) await h.file(`${subject}.jpg`, sampleJpeg({ seed: i + 1, directives: 'genuine,score=0.94' }));
  await night('night-1', lines);
  // Night 2: three flip to deepfake (their files now hold other bytes: the baseline's media changed),
  // and a ref to an internal host that the host policy refuses.
  for (const [i, subject] of subjects.slice(0, 3).entries()) await h.file(`${subject}.jpg`, sampleJpeg({ seed: 100 + i, directives: 'fake,score=0.07' }));
  await night('night-2', [...lines, { ref: 'http://127.0.0.1:9/internal.jpg', check: 'ooto-deepfake', subject: 'cust-int' }]);
  base = await s.app.listen({ port: 0, host: '127.0.0.1' });
  profile = await mkdtemp(join(tmpdir(), 'rescreen-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
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
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // 401 (before the token), 404/409/422 (media the page explains) are answers the page shows, not faults.
    if (m.type() === 'error' && !/\b(401|404|409|422)\b/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
}

const caseTitle = (page: Page) => page.locator('#case-title').textContent();

describe('review page in headless Chromium', () => {
  it('a reviewer decides three cases by keyboard alone; they appear in review list', async () => {
    const open = (await listCases(s.runtime, { state: 'open' })).cases;
    expect(open.map((c) => c.subject).sort()).toEqual(['cust-1', 'cust-2', 'cust-3']);
    const page = context.pages()[0] ?? (await context.newPage());
    watch(page);
    await page.goto(`${base}/#/review`);
    await page.getByRole('dialog', { name: 'API token' }).waitFor();
    await page.getByRole('textbox', { name: 'Token' }).fill(REVIEWER);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#review-cases tbody tr').count(), { timeout: 30_000 }).toBe(3);
    await expect.poll(() => page.locator('#review-counts').textContent()).toContain('open 3');

    // Keyboard only from here: j selects the first case, Enter opens it.
    await page.keyboard.press('j');
    await page.keyboard.press('Enter');
    await expect.poll(() => caseTitle(page)).toContain(open[0]!.id);
    await page.keyboard.press('x'); // cleared, no note needed
    await expect.poll(() => caseTitle(page)).toContain(open[1]!.id);
    await page.keyboard.press('c'); // confirmed-fraud: the page asks for a note
    await expect.poll(() => page.locator('#note-hint').textContent()).toMatch(/needs a note/);
    await page.keyboard.type('same face as another customer');
    await page.keyboard.press('Enter');
    await expect.poll(() => caseTitle(page)).toContain(open[2]!.id);
    // The case page: this screening's photo beside the baseline, whose file changed since (MEDIA_CHANGED, said in words).
    const side = page.getByRole('region', { name: 'This screening' });
    await side.locator('img').first().waitFor();
    expect(await side.textContent()).toContain('⚠ deepfake');
    const baseline = page.getByRole('region', { name: 'Baseline' });
    await expect.poll(() => baseline.locator('.media-problem').textContent()).toMatch(/MEDIA_CHANGED — the media the ref gives now is not the media screened/);
    expect(await baseline.textContent()).toContain('✓ genuine');
    expect(await page.locator('#case-facts').textContent()).toContain('worse');
    await page.screenshot({ path: SHOT, fullPage: true });
    await page.keyboard.press('e'); // escalate, with a note
    await page.keyboard.type('second look');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.evaluate('location.hash')).toBe('#/review');

    const list = await runCli(['review', 'list', '--state', 'decided', '--format', 'jsonl'], h.env);
    expect(list.code, list.stderr).toBe(0);
    const decided = list.stdout.trim().split('\n').map((l) => JSON.parse(l) as ReviewCase);
    expect(decided.map((c) => [c.subject, c.decision, c.decidedBy]).sort()).toEqual([
      ['cust-1', 'cleared', 'rita'],
      ['cust-2', 'confirmed-fraud', 'rita'],
      ['cust-3', 'escalate', 'rita'],
    ].sort());
    expect(list.stdout).not.toContain(REVIEWER);
  }, 150_000);

  it('the batch page lists what changed, worse first, with links to the cases; no operator buttons for a reviewer', async () => {
    const page = context.pages()[0]!;
    await page.goto(`${base}/#/batch/night-2`);
    await expect.poll(() => page.locator('#changes tbody tr').count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(3);
    const rows = page.locator('#changes tbody tr');
    for (let i = 0; i < 3; i++) {
      expect(await rows.nth(i).textContent()).toMatch(/worse.*genuine → deepfake.*⚠ deepfake.*0\.94 → 0\.07/);
      expect(await rows.nth(i).locator('a[href^="#/case/"]').count()).toBe(1);
    }
    expect(await page.locator('#batch-state').textContent()).toMatch(/statefinished/);
    expect(await page.locator('#batch-controls').isHidden()).toBe(true);
    await expect.poll(() => page.locator('#failures tbody').textContent()).toMatch(/MEDIA_HOST_REFUSED — the media URL .* internal host/);
    await rows.first().locator('a[href^="#/case/"]').click();
    await expect.poll(() => caseTitle(page)).toContain('cust-1');
  }, 90_000);

  it('the subject page is a timeline; media refused by the host policy shows why', async () => {
    const page = context.pages()[0]!;
    await page.goto(`${base}/#/subject/cust-2`);
    const timeline = page.getByRole('table', { name: 'screenings of cust-2' });
    await expect.poll(() => timeline.locator('tbody tr').count(), { timeout: 30_000 }).toBe(2);
    expect(await timeline.locator('tbody tr').nth(1).textContent()).toMatch(/night-2:2.*⚠ deepfake0\.07genuine → deepfake/);
    await expect.poll(() => page.getByRole('complementary', { name: 'cases and decisions' }).textContent()).toMatch(/confirmed-fraud by rita: same face as another customer/);
    await page.goto(`${base}/#/subject/cust-int`);
    await expect.poll(() => page.locator('#records .media-problem').first().textContent(), { timeout: 30_000 }).toMatch(/MEDIA_HOST_REFUSED — the media URL/);
    expect(problems).toEqual([]);
  }, 90_000);

  it('an operator token gets pause / resume / cancel / raise on a running batch, and they work', async () => {
    const page = context.pages()[0]!;
    await enqueueBatch(s.runtime, { manifest: await h.manifest('night-3.jsonl', [{ ref: 'cust-4.jpg', check: 'ooto-deepfake', subject: 'cust-4' }]), batch: 'night-3' });
    await page.evaluate(`sessionStorage.setItem('rescreen.token', '${OPERATOR}')`);
    await page.goto(`${base}/#/batch/night-3`);
    await page.reload();
    await page.getByRole('button', { name: 'Pause' }).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => page.locator('#batch-state').textContent(), { timeout: 30_000 }).toMatch(/statepaused/);
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => page.locator('#batch-state').textContent(), { timeout: 30_000 }).toMatch(/staterunning/);
    await page.getByLabel('max calls').fill('5');
    await page.getByRole('button', { name: 'Raise cap' }).click();
    await expect.poll(() => page.locator('#batch-state').textContent(), { timeout: 30_000 }).toMatch(/cap5 calls/);
    expect(problems).toEqual([]);
  }, 90_000);
});
