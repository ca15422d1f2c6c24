import { createServer, type Server } from 'node:http';
import { mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { updatePartner } from '../../src/store/partners.js';
import { createTestPartner, graphql, partnerToken, startGateway, type TestGateway, type TestPartner } from '../fixtures/gateway.js';
import { REQUEST_CONSENT, partnerRead, seedSubject } from '../fixtures/consentScenario.js';

const SCREENSHOT_DIR = 'docs/screenshots';
const updateScreenshots = process.env.UPDATE_SCREENSHOTS === '1';

/** Real headless Chromium through the whole consent journey: request, sign-in, approve a subset, read, revoke. */
describe('consent journey in a browser', () => {
  let gw: TestGateway;
  let browser: Browser;
  let partner: TestPartner;
  let token: string;
  let callback: Server;
  let callbackUrl: string;

  beforeAll(async () => {
    callback = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><title>Partner</title><h1>Back at the partner</h1><p id="query">${new URL(req.url!, 'http://x').search.replace(/[<>&"]/g, '')}</p>`);
    });
    await new Promise<void>((resolve) => callback.listen(0, '127.0.0.1', resolve));
    callbackUrl = `http://127.0.0.1:${(callback.address() as { port: number }).port}/consent-callback`;
    gw = await startGateway('pglite');
    partner = await createTestPartner(gw.services, {
      name: 'Swift Car Rental',
      scopes: ['score.threshold', 'score.band', 'score.value', 'identity.verified'],
      redirectUris: [callbackUrl],
    });
    await updatePartner(gw.services.db, partner.id, { contact: 'privacy@swift-rental.example' }, gw.services.clock());
    token = await partnerToken(gw.url, partner);
    await seedSubject(gw.services, 'subject-en');
    await seedSubject(gw.services, 'subject-zh', 640);
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    if (updateScreenshots) mkdirSync(SCREENSHOT_DIR, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.close();
    await new Promise((resolve) => callback?.close(resolve));
  });

  async function askForConsent(subjectId: string): Promise<{ id: string; approvalUrl: string }> {
    const { body } = await graphql(gw.url, token, REQUEST_CONSENT, {
      input: { subjectId, purpose: 'deposit_waiver', categories: ['score.band', 'score.value', 'identity.verified'], durationDays: 90, redirectUri: callbackUrl },
    });
    return body.data.requestConsent;
  }

  async function signIn(page: Page, subjectId: string, submitLabel: string): Promise<void> {
    await page.getByRole('textbox').fill(await gw.services.tokens.issueRoleToken(subjectId, ['subject'], 900));
    await page.getByRole('button', { name: submitLabel }).click();
  }

  const shot = async (page: Page, name: string) => {
    if (updateScreenshots) await page.screenshot({ path: `${SCREENSHOT_DIR}/${name}`, fullPage: true });
  };

  it('in English: approve a subset, the partner reads only that, revoke stops it', async () => {
    const request = await askForConsent('subject-en');
    const context = await browser.newContext({ locale: 'en-GB', extraHTTPHeaders: { 'accept-language': 'en-GB,en;q=0.9' }, viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();

    await page.goto(request.approvalUrl);
    expect(new URL(page.url()).pathname).toBe('/signin');
    await signIn(page, 'subject-en', 'Sign in with token');
    await page.waitForURL(request.approvalUrl);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Swift Car Rental asks for your consent');
    const body = await page.locator('main').innerText();
    for (const disclosure of ['Car rental', 'privacy@swift-rental.example', 'Waiving a deposit', '90 days from your approval', 'Exact score', 'Your exact score (350 to 950).', 'My data page']) {
      expect(body).toContain(disclosure);
    }
    await shot(page, 'consent-page.png');

    const exact = page.getByRole('checkbox', { name: /Exact score/ });
    expect(await exact.isChecked()).toBe(true);
    await exact.focus();
    await page.keyboard.press('Space'); // keyboard works as well as the mouse
    expect(await exact.isChecked()).toBe(false);
    await page.getByRole('button', { name: 'Approve selected' }).click();
    await page.waitForURL((url) => url.pathname === '/consent-callback');
    expect(Object.fromEntries(new URL(page.url()).searchParams)).toEqual({ request_id: request.id, outcome: 'approved' });

    const read = await partnerRead(gw.url, token, 'subject-en');
    expect(read.data).toEqual({ id: 'subject-en', score: { band: 'EXCELLENT', value: null }, identity: { verified: true } });
    expect(read.denied).toEqual({ 'score.value': 'CONSENT_REQUIRED' });

    await page.goto(`${gw.url}/me`);
    const log = page.locator('section[aria-labelledby="access-log"] tbody tr').first();
    expect(await log.innerText()).toMatch(/Swift Car Rental\s+Waiving a deposit\s+Identity verification and Score band\s+Exact score/);
    await shot(page, 'me-page.png');

    await page.getByRole('link', { name: 'Receipt' }).click();
    expect(await page.locator('main').innerText()).toContain('The signature on this receipt is valid.');
    await page.goBack();

    await page.getByRole('link', { name: 'Withdraw consent for Swift Car Rental, Waiving a deposit' }).click();
    expect(await page.locator('main').innerText()).toContain(
      'Swift Car Rental will no longer be able to read Identity verification and Score band for Waiving a deposit.',
    );
    await page.getByRole('button', { name: 'Yes, withdraw' }).click();
    await page.waitForURL(/\/me\?revoked=/);
    expect(await page.getByRole('status').innerText()).toContain('Consent withdrawn.');
    expect(await page.locator('section[aria-labelledby="active-consents"]').innerText()).toContain('You have no active consents.');

    const afterRevoke = await partnerRead(gw.url, token, 'subject-en');
    expect(afterRevoke.denied).toEqual({ 'score.band': 'CONSENT_REQUIRED', 'score.value': 'CONSENT_REQUIRED', identity: 'CONSENT_REQUIRED' });
    await context.close();
  });

  it('in Chinese (Accept-Language zh-CN), with the language switch remembered', async () => {
    const request = await askForConsent('subject-zh');
    const context = await browser.newContext({ locale: 'zh-CN', extraHTTPHeaders: { 'accept-language': 'zh-CN,zh;q=0.9' }, viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();

    await page.goto(request.approvalUrl);
    expect(await page.locator('main').innerText()).toContain('登录后即可答复授权请求');
    await signIn(page, 'subject-zh', '使用令牌登录');
    await page.waitForURL(request.approvalUrl);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Swift Car Rental 请求您的授权');
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    const body = await page.locator('main').innerText();
    for (const disclosure of ['汽车租赁', '免押金', '自您同意之日起 90 天', '具体分数', '我的数据']) expect(body).toContain(disclosure);
    await shot(page, 'consent-page.zh-CN.png');

    await page.getByRole('checkbox', { name: /身份验证/ }).uncheck();
    await page.getByRole('button', { name: '同意所选项目' }).click();
    await page.waitForURL((url) => url.pathname === '/consent-callback');
    expect(new URL(page.url()).searchParams.get('outcome')).toBe('approved');

    const read = await partnerRead(gw.url, token, 'subject-zh');
    expect(read.data.score).toEqual({ band: 'GOOD', value: 640 });
    expect(read.denied).toEqual({ identity: 'CONSENT_REQUIRED' });

    await page.goto(`${gw.url}/me`);
    expect(await page.locator('section[aria-labelledby="access-log"] tbody tr').first().innerText()).toMatch(/Swift Car Rental\s+免押金\s+分数等级和具体分数\s+身份验证/);
    await shot(page, 'me-page.zh-CN.png');

    await page.getByRole('link', { name: '撤回对 Swift Car Rental（免押金）的授权' }).click();
    expect(await page.locator('main').innerText()).toContain('Swift Car Rental 将无法再为“免押金”读取您的分数等级和具体分数。');
    await page.getByRole('button', { name: '确定撤回' }).click();
    await page.waitForURL(/\/me\?revoked=/);
    expect(await page.getByRole('status').innerText()).toContain('授权已撤回');
    expect((await partnerRead(gw.url, token, 'subject-zh')).denied).toEqual({ 'score.band': 'CONSENT_REQUIRED', 'score.value': 'CONSENT_REQUIRED', identity: 'CONSENT_REQUIRED' });

    // The switch wins over Accept-Language and is remembered.
    await page.getByRole('link', { name: 'English' }).click();
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('My data');
    await page.goto(`${gw.url}/me`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('My data');
    await context.close();
  });
});
