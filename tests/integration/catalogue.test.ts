import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../fixtures/gateway.js';
import { STORE_KINDS } from '../fixtures/stores.js';

describe.each(STORE_KINDS)('the catalogue of categories and purposes on %s', (kind) => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway(kind);
  });
  afterAll(() => gw?.close());

  it('serves the registries as JSON, public, with the fields each category opens, in both languages', async () => {
    const res = await fetch(`${gw.url}/catalogue.json`);
    expect(res.status).toBe(200);
    const catalogue = (await res.json()) as any;
    expect(catalogue.categories.map((c: any) => [c.name, c.fields])).toEqual([
      ['score.threshold', ['ScoreSummary.atLeast']],
      ['score.band', ['ScoreSummary.band']],
      ['score.value', ['ScoreSummary.value']],
      ['score.dimensions', ['ScoreSummary.dimensions']],
      ['score.factors', ['ScoreSummary.factors']],
      ['score.history', ['ScoreSummary.history']],
      ['identity.verified', ['Subject.identity']],
    ]);
    expect(catalogue.categories[1]).toEqual({
      name: 'score.band',
      title: { en: 'Score band', 'zh-CN': '分数等级' },
      reveals: {
        en: 'The band your score falls in (Poor, Fair, Good, Very good, Excellent), not the exact score.',
        'zh-CN': '您的分数所在等级（较差、中等、良好、优秀、极好），不显示具体分数。',
      },
      fields: ['ScoreSummary.band'],
    });
    expect(catalogue.purposes).toContainEqual({ name: 'deposit_waiver', title: { en: 'Waiving a deposit', 'zh-CN': '免押金' } });
    expect(catalogue.purposes.map((p: any) => p.name)).toEqual([
      'credit_underwriting',
      'deposit_waiver',
      'fraud_prevention',
      'identity_verification',
      'insurance_underwriting',
      'post_pay',
      'tenant_screening',
    ]);
    expect(catalogue.releasedWith).toEqual([
      { field: 'ScoreSummary.asOf', releasedWithAnyOf: 'score.*' },
      { field: 'ScoreSummary.model', releasedWithAnyOf: 'score.*' },
    ]);
  });

  it('reads the registry from the database: a purpose added there shows up', async () => {
    await gw.services.db.query(`INSERT INTO purposes (name, title, title_zh) VALUES ('car_sharing', 'Sharing a car', '汽车共享')`);
    const catalogue = (await (await fetch(`${gw.url}/catalogue.json`)).json()) as any;
    expect(catalogue.purposes).toContainEqual({ name: 'car_sharing', title: { en: 'Sharing a car', 'zh-CN': '汽车共享' } });
    await gw.services.db.query(`DELETE FROM purposes WHERE name = 'car_sharing'`);
  });

  it('shows a page in English and in Simplified Chinese, by Accept-Language or ?lang=', async () => {
    const en = await fetch(`${gw.url}/catalogue`, { headers: { 'accept-language': 'en-GB' } });
    const page = await en.text();
    expect({ status: en.status, type: en.headers.get('content-type') }).toEqual({ status: 200, type: 'text/html; charset=utf-8' });
    expect(page).toContain('<html lang="en"');
    expect(page).toContain('<h1>Categories and purposes</h1>');
    expect(page).toMatch(/<tr id="category-score.band"><th scope="row"><code>score.band<\/code><br>Score band<\/th><td>The band your score falls in[^<]*<\/td><td><code>ScoreSummary.band<\/code> <\/td><\/tr>/);
    expect(page).toContain('<tr id="purpose-deposit_waiver"><th scope="row"><code>deposit_waiver</code></th><td>Waiving a deposit</td></tr>');
    expect(page).toContain('ScoreSummary.asOf, ScoreSummary.model are released along with any score.* category of the same subject.');

    for (const zh of [
      await fetch(`${gw.url}/catalogue`, { headers: { 'accept-language': 'zh-CN,zh;q=0.9' } }),
      await fetch(`${gw.url}/catalogue?lang=zh-CN`),
    ]) {
      const text = await zh.text();
      expect(text).toContain('<html lang="zh-CN"');
      expect(text).toContain('<h1>数据类别与用途</h1>');
      expect(text).toContain('<tr id="purpose-deposit_waiver"><th scope="row"><code>deposit_waiver</code></th><td>免押金</td></tr>');
      expect(text).toMatch(/<code>score.band<\/code><br>分数等级<\/th><td>您的分数所在等级/);
    }
  });
});
