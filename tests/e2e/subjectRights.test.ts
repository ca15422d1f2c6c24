import { readFile } from 'node:fs/promises';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partnerRead, seedSubject } from '../fixtures/consentScenario.js';
import { createTestPartner, partnerToken, startGateway, type TestGateway, type TestPartner } from '../fixtures/gateway.js';
import { consentTo } from '../fixtures/subjects.js';

/** Real headless Chromium on /me: download the whole record (JSON and CSV), then erase with confirmation, in both languages. */
describe('download and erasure in a browser', () => {
  let gw: TestGateway;
  let browser: Browser;
  let partner: TestPartner;
  let token: string;

  beforeAll(async () => {
    gw = await startGateway('pglite');
    partner = await createTestPartner(gw.services, { name: 'Swift Car Rental' });
    token = await partnerToken(gw.url, partner);
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.close();
  });

  const LANGUAGES = [
    {
      locale: 'en-GB',
      subject: 'rights-en',
      signIn: 'Sign in with token',
      section: 'Your whole record',
      json: 'Download my record (JSON)',
      csv: 'Download my record (CSV)',
      erase: 'Erase my data…',
      eraseTitle: 'Erase your data?',
      says: ['Every consent you have given is withdrawn now', 'Your score summary and identity check are deleted', 'the key that tied them to you is destroyed', 'This cannot be undone.'],
      confirm: 'Yes, erase my data',
      erased: 'Your data has been erased.',
      noConsents: 'You have no active consents.',
    },
    {
      locale: 'zh-CN',
      subject: 'rights-zh',
      signIn: '使用令牌登录',
      section: '您的完整记录',
      json: '下载我的记录（JSON）',
      csv: '下载我的记录（CSV）',
      erase: '删除我的数据…',
      eraseTitle: '确定删除您的数据？',
      says: ['您给出的所有授权立即撤回', '您的分数摘要和身份验证信息将从本网关删除', '将这些记录与您关联的密钥会被销毁', '此操作无法撤销。'],
      confirm: '确定删除我的数据',
      erased: '您的数据已删除。',
      noConsents: null,
    },
  ] as const;

  async function download(page: Page, linkName: string): Promise<string> {
    const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: linkName, exact: true }).click()]);
    return readFile((await file.path())!, 'utf8');
  }

  it.each(LANGUAGES)('$locale: downloads the record as JSON and CSV, then erases after confirming', async (lang) => {
    await seedSubject(gw.services, lang.subject, 655);
    await consentTo(gw.services, lang.subject, partner.id, 'deposit_waiver', ['score.band']);
    expect((await partnerRead(gw.url, token, lang.subject)).data.score.band).toBe('VERY_GOOD');

    const context = await browser.newContext({ locale: lang.locale, extraHTTPHeaders: { 'accept-language': `${lang.locale},en;q=0.5` }, acceptDownloads: true });
    const page = await context.newPage();
    await page.goto(`${gw.url}/me`);
    await page.getByRole('textbox').fill(await gw.services.tokens.issueRoleToken(lang.subject, ['subject'], 900));
    await page.getByRole('button', { name: lang.signIn }).click();
    await page.waitForURL(`${gw.url}/me`);
    expect(await page.locator('section[aria-labelledby="my-record"] h2').innerText()).toBe(lang.section);

    const record = JSON.parse(await download(page, lang.json));
    expect(record).toMatchObject({ format: 'consentry-subject-record', subjectId: lang.subject, score: { value: 655, band: 'VERY_GOOD' } });
    expect(record.consents.map((c: any) => [c.partnerId, c.status])).toEqual([[partner.id, 'ACTIVE']]);
    expect(record.accessLog.map((a: any) => [a.partnerName, a.released])).toEqual([['Swift Car Rental', ['score.band']]]);
    const csv = await download(page, lang.csv);
    expect(csv.split('\r\n')[0]).toBe('record,id,at,partnerId,partnerName,purpose,categories,status,expiresAt,revokedAt,released,denied,detail');
    expect(csv).toContain(`subject,${lang.subject},`);
    expect(csv).toMatch(/\r\naccess,\d+,[^,]+,p_[^,]+,Swift Car Rental,deposit_waiver,,,,,score\.band,/);

    // Erasure: a confirmation page first, saying what will happen; cancelling changes nothing.
    await page.getByRole('link', { name: lang.erase }).click();
    await page.waitForURL(`${gw.url}/me/erase`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(lang.eraseTitle);
    const explained = await page.locator('main').innerText();
    for (const line of lang.says) expect(explained).toContain(line);
    expect(await page.locator('form[action="/me/erase"] input[name="csrf"]').count()).toBe(1);
    await page.getByRole('link', { name: lang.locale === 'zh-CN' ? '取消' : 'Cancel' }).click();
    await page.waitForURL(`${gw.url}/me`);
    expect((await partnerRead(gw.url, token, lang.subject)).data.score.band).toBe('VERY_GOOD');

    await page.getByRole('link', { name: lang.erase }).click();
    await page.getByRole('button', { name: lang.confirm }).click();
    await page.waitForURL(`${gw.url}/me?erased=done`);
    expect(await page.getByRole('status').innerText()).toContain(lang.erased);
    if (lang.noConsents) expect(await page.locator('section[aria-labelledby="active-consents"]').innerText()).toContain(lang.noConsents);
    expect(await page.locator('section[aria-labelledby="access-log"] tbody tr').count()).toBe(0);

    const after = await partnerRead(gw.url, token, lang.subject);
    expect(after.denied).toEqual({ 'score.band': 'CONSENT_REQUIRED', 'score.value': 'CONSENT_REQUIRED', identity: 'CONSENT_REQUIRED' });
    expect(await gw.services.db.query('SELECT id FROM subjects WHERE id = $1', [lang.subject])).toEqual([]);
    await context.close();
  });
});
