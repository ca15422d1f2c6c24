import { readFileSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCheckpoint } from '../../src/audit/checkpoints.js';
import { startGateway, type TestGateway } from '../fixtures/gateway.js';
import { sampleEvents } from '../integration/audit/auditGateway.js';

const SCREENSHOT = 'docs/screenshots/compliance-page.png';

describe('the compliance page in Chromium', () => {
  let gw: TestGateway;
  let browser: Browser;
  let officerToken: string;

  beforeAll(async () => {
    gw = await startGateway('pglite');
    const now = gw.services.clock().getTime();
    // Five days of decisions by three partners, so the chart has something to draw.
    const events = sampleEvents(240, new Date(now), ['p_carrental', 'p_hotel', 'p_lender']).map((e, i) => ({ ...e, at: new Date(now - 5 * 86_400_000 + i * 30 * 60_000) }));
    await gw.services.auditLog.append(events);
    await gw.services.auditLog.append([
      { kind: 'partner.flagged', at: new Date(now - 3600_000), actorType: 'system', actorId: 'probing-detector', partnerId: 'p_lender', details: { reasons: ['NON_CONSENTING_SUBJECTS'] } },
    ]);
    await writeCheckpoint({ db: gw.services.db, keys: gw.services.keys, clock: gw.services.clock, issuer: gw.services.config.issuer });
    officerToken = await gw.services.tokens.issueRoleToken('officer-1', ['compliance'], 900);
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.close();
  });

  it('sends a visitor without a session to sign in, and refuses a subject', async () => {
    const anonymous = await fetch(`${gw.url}/compliance`, { redirect: 'manual' });
    expect(anonymous.status).toBe(302);
    expect(anonymous.headers.get('location')).toBe('/signin?next=/compliance');
    const subject = await gw.services.tokens.issueRoleToken('s_1', ['subject'], 900);
    const refused = await fetch(`${gw.url}/compliance`, { headers: { cookie: `consentry_session=${subject}` } });
    expect(refused.status).toBe(403);
    const exportRefused = await fetch(`${gw.url}/compliance/export.csv`, { redirect: 'manual' });
    expect(exportRefused.status).toBe(302);
  });

  it('shows the chart, filters by keyboard and downloads the filtered CSV', async () => {
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
    await context.addCookies([{ name: 'consentry_session', value: officerToken, url: gw.url }]);
    const page = await context.newPage();
    await page.goto(`${gw.url}/compliance`);

    await expect.poll(() => page.locator('#decisions-chart .panel').count()).toBe(3);
    expect(await page.locator('#decisions-chart rect.released').count()).toBeGreaterThan(0);
    expect(await page.locator('#decisions-chart rect.denied').count()).toBeGreaterThan(0);
    expect(await page.locator('#decisions-chart title').first().textContent()).toMatch(/^Access decisions per day, by partner/);
    expect(await page.getByRole('heading', { name: 'Flagged partners' }).isVisible()).toBe(true);
    expect(await page.locator('section[aria-labelledby="flags-heading"] td').first().textContent()).toBe('p_lender');
    expect(await page.locator('section[aria-labelledby="codes-heading"] td').first().textContent()).toBe('CONSENT_REQUIRED');
    expect(await page.locator('section[aria-labelledby="chain-heading"]').textContent()).toContain('Latest signed checkpoint');

    if (process.env.UPDATE_SCREENSHOTS === '1') await page.screenshot({ path: SCREENSHOT, fullPage: true });

    await page.getByLabel('Partner', { exact: true }).fill('p_hotel');
    await page.getByLabel('Partner', { exact: true }).press('Enter');
    await page.waitForURL(/partner=p_hotel/);
    const partnerColumn = () => page.locator('table.events tbody tr td:nth-child(5)').allTextContents();
    expect(await partnerColumn()).toEqual(Array(50).fill('p_hotel'));
    await page.getByRole('link', { name: 'Next page' }).click();
    await page.waitForURL(/after=/);
    // 80 events of p_hotel: the second page holds the other 30.
    expect(await partnerColumn()).toEqual(Array(30).fill('p_hotel'));

    await page.getByLabel('Decision', { exact: true }).selectOption('DENIED');
    await page.getByRole('button', { name: 'Filter' }).press('Enter');
    await page.waitForURL(/decision=DENIED/);
    expect(await page.locator('table.events caption').textContent()).toMatch(/^Events \d+ to \d+/);

    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#export-csv').click()]);
    expect(download.suggestedFilename()).toMatch(/^consentry-audit-.*\.csv$/);
    const rows = readFileSync((await download.path())!, 'utf8').trimEnd().split('\r\n');
    expect(rows[0]).toBe('seq,at,kind,actor,partnerId,subjectId,purpose,requestId,released,denied,consentIds,details,prevHash,hash');
    // p_hotel has the events with i % 3 == 1; those with an odd i denied score.value.
    const expected = sampleEvents(240, new Date(), ['p_carrental', 'p_hotel', 'p_lender']).filter((e) => e.partnerId === 'p_hotel' && e.denied!.length > 0);
    expect(rows.length - 1).toBe(expected.length);
    for (const row of rows.slice(1)) expect(row.split(',')[4]).toBe('p_hotel');
    await context.close();
  });
});
