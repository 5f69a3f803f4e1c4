/**
 * The run pages in a real browser (issue 16): Debian's chromium, headless, driven by playwright-core, loads the
 * pages of the real sidecar on 127.0.0.1 while the TypeScript client streams runs, waits for the charts and
 * asserts what a person sees — the run id, the spectrum's points, the STOP marker appearing after a scripted STOP
 * without a reload — and that the list stays correct with 50 runs and a run id made of HTML. Screenshots go to
 * .test-out/ui/. Skips (loudly) only when /usr/bin/chromium is absent: `npm run setup:test` installs it.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NtkSidecarClient } from '../../src/client/ntkSidecarClient.js';
import { startTestServer, type TestServer } from '../support/startTestServer.js';
import { POWER_LAW, streamPowerLawRun, streamStoppingRun } from './scriptedRuns.js';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) {
  console.warn(`\n*** SKIPPED test/ui/browser.test.ts: ${CHROMIUM} is absent. Install it with \`npm run setup:test\` (Debian package chromium). ***\n`);
}

const OUT = join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), '.test-out', 'ui');
/** Scripts and markup a run id could smuggle in; the page must show them as text and run none of them. */
const EVIL = `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">`;

let server: TestServer;
let client: NtkSidecarClient;
let browser: Browser;
let base: string;
const pageErrors: string[] = [];

async function openPage(path: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('pageerror', (err) => pageErrors.push(`${path}: ${err.message}`));
  page.on('dialog', (d) => {
    pageErrors.push(`${path}: dialog ${d.message()}`);
    void d.dismiss();
  });
  const res = await page.goto(`${base}${path}`);
  expect(res?.status(), path).toBe(200);
  return page;
}

describe.skipIf(!HAVE_CHROMIUM)('run pages in headless chromium', () => {
  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    // .test-out/ ignores itself: nothing written here ends up in git.
    writeFileSync(join(OUT, '..', '.gitignore'), '*\n');
    server = await startTestServer();
    base = server.server.metricsUrl!;
    client = new NtkSidecarClient(server.grpcTarget);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    client?.close();
    await server?.stop();
  });

  it('shows the spectrum of a live run: its id and one point per eigenvalue, with the fitted decay', async () => {
    await streamPowerLawRun(client, 'power-law');
    const page = await openPage('/runs/power-law');
    await page.waitForSelector('svg[data-chart="spectrum"] circle.eigen');
    expect(await page.locator('#title-id').textContent()).toBe('power-law');
    const points = page.locator('svg[data-chart="spectrum"] circle.eigen');
    expect(await points.count()).toBe(POWER_LAW.length);
    expect(await points.first().isVisible()).toBe(true);
    // The points fall on a straight line on the log-log axes (λ_i = 100·i^−1.5), from top left to bottom right.
    const boxes = await Promise.all([0, 9, 31].map(async (i) => (await points.nth(i).boundingBox())!));
    const slope = (a: (typeof boxes)[0], b: (typeof boxes)[0]) => (b.y - a.y) / (b.x - a.x);
    expect(boxes[0].x).toBeLessThan(boxes[2].x);
    expect(boxes[0].y).toBeLessThan(boxes[2].y);
    expect(slope(boxes[0], boxes[1])).toBeCloseTo(slope(boxes[1], boxes[2]), 1);
    expect(await page.locator('svg[data-chart="spectrum"] polyline.fit').isVisible()).toBe(true);
    expect(await page.locator('svg[data-chart="spectrum"]').textContent()).toContain('s = 1.5');
    await page.screenshot({ path: join(OUT, 'spectrum-run.png'), fullPage: true });
    await page.close();
  });

  it('marks the STOP on the open page once the scripted run STOPs, without a reload', async () => {
    let page: Page | undefined;
    const stopStep = await streamStoppingRun(client, 'lazy-linear', {
      finish: false,
      afterFirstSnapshot: async () => {
        page = await openPage('/runs/lazy-linear');
        await page.waitForSelector('svg[data-chart="loss"]');
        expect(await page.locator('svg[data-chart="loss"] .stop-marker').count()).toBe(0);
        await page.evaluate(() => {
          (globalThis as unknown as { __sameDocument: boolean }).__sameDocument = true;
        });
      },
    });
    const p = page!;
    const marker = p.locator('svg[data-chart="loss"] g.stop-marker');
    await marker.waitFor({ state: 'visible', timeout: 20_000 });
    expect(await p.evaluate(() => (globalThis as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true); // no reload
    expect(await marker.getAttribute('data-step')).toBe(String(stopStep));
    expect(await marker.textContent()).toBe(`STOP @ ${stopStep}`);
    expect(await p.locator('svg[data-chart="timeline"] g.stop-marker').isVisible()).toBe(true);
    expect(await p.locator('#stop-summary').textContent()).toContain(`STOP at step ${stopStep} (REASON_KESS_REACHED)`);
    expect(await p.locator('#run-id').textContent()).toBe('lazy-linear');
    expect(await p.locator('#decisions tr.decision').first().textContent()).toContain('REASON_KESS_REACHED');
    expect(await p.locator('svg[data-chart="loss"] .kess-marker').isVisible()).toBe(true);
    await p.screenshot({ path: join(OUT, 'stop-run.png'), fullPage: true });
    await p.close();
  });

  it('lists 50 runs, one of them with an id made of HTML, as text', async () => {
    await streamPowerLawRun(client, EVIL, { finish: true });
    for (let i = 0; i < 47; i++) {
      const run = client.attach({ run_id: `run-${String(i).padStart(2, '0')}`, job_id: 'sweep', probe: { num_samples: 4, num_outputs: 1 } });
      await run.accepted;
      await run.finish('RUN_STATUS_COMPLETED');
    }
    const page = await openPage('/');
    await page.waitForSelector('#runs tr.run');
    expect(await page.locator('#runs tr.run').count()).toBe(50);
    const evilLink = page.getByRole('link', { name: EVIL, exact: true });
    expect(await evilLink.isVisible()).toBe(true);
    expect(await page.locator('#runs img').count()).toBe(0);
    // Let the refresh run once (it re-inserts the fragment with innerHTML) and look again.
    await page.locator('#live[data-refreshed]').waitFor({ state: 'attached', timeout: 10_000 });
    expect(await page.locator('#runs tr.run').count()).toBe(50);
    expect(await page.locator('#runs img').count()).toBe(0);
    expect(await page.locator('tr.run[data-run-id="lazy-linear"]').textContent()).toContain('STOP');
    await page.screenshot({ path: join(OUT, 'run-list-50.png'), fullPage: true });

    await evilLink.click();
    await page.waitForSelector('svg[data-chart="spectrum"] circle.eigen');
    expect(await page.locator('#title-id').textContent()).toBe(EVIL);
    expect(await page.locator('#run-id').textContent()).toBe(EVIL);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('script').count()).toBe(1); // the page's own
    await page.screenshot({ path: join(OUT, 'html-id-run.png'), fullPage: true });
    expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await page.close();
    expect(pageErrors).toEqual([]);
  });
});
