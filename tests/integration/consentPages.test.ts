import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/clock.js';
import { csrfTokenFor } from '../../src/web/session.js';
import { STORE_KINDS } from '../fixtures/stores.js';
import { createTestPartner, graphql, partnerToken, startGateway, type TestGateway, type TestPartner } from '../fixtures/gateway.js';
import { CONSENT_REQUEST, REQUEST_CONSENT } from '../fixtures/consentScenario.js';

const DAY = 86_400_000;

/** The pages over plain HTTP: who may see what, CSRF, the redirect back, headers. The journey itself is in tests/e2e. */
describe.each(STORE_KINDS)('consent and sign-in pages on %s', (kind) => {
  let gw: TestGateway;
  let partner: TestPartner;
  let token: string;
  let offsetMs = 0;
  const clock: Clock = () => new Date(Date.now() + offsetMs);

  const session = async (sub: string) => {
    const t = await gw.services.tokens.issueRoleToken(sub, ['subject'], 900);
    return { cookie: `consentry_session=${t}`, csrf: csrfTokenFor(t), token: t };
  };
  const ask = async (overrides: Record<string, unknown> = {}): Promise<{ id: string }> =>
    (
      await graphql(gw.url, token, REQUEST_CONSENT, {
        input: { subjectId: 'subject-1', purpose: 'deposit_waiver', categories: ['score.band', 'score.value'], durationDays: 30, ...overrides },
      })
    ).body.data.requestConsent;
  const get = (path: string, cookie?: string, headers: Record<string, string> = {}) =>
    fetch(`${gw.url}${path}`, { redirect: 'manual', headers: { ...(cookie ? { cookie } : {}), ...headers } });
  const post = (path: string, form: Record<string, string | string[]>, cookie?: string) => {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(form)) for (const one of [v].flat()) body.append(k, one);
    return fetch(`${gw.url}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
      body,
    });
  };
  const statusOf = async (id: string) =>
    (await graphql(gw.url, token, CONSENT_REQUEST, { id })).body.data.consentRequest.status as string;

  beforeAll(async () => {
    gw = await startGateway(kind, { clock });
    partner = await createTestPartner(gw.services, { name: 'Swift Car Rental', redirectUris: ['https://partner.example/callback?src=consentry'] });
    token = await partnerToken(gw.url, partner);
  });
  afterAll(() => gw?.close());

  it('sends a visitor without a session to sign in, with the way back', async () => {
    const { id } = await ask();
    const res = await get(`/consent/${id}`);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/signin?next=${encodeURIComponent(`/consent/${id}`)}`);
  });

  it('shows someone else’s request exactly like a missing one', async () => {
    const { id } = await ask();
    const stranger = await session('subject-2');
    const foreign = await get(`/consent/${id}`, stranger.cookie);
    const missing = await get('/consent/00000000-0000-4000-8000-000000000000', stranger.cookie);
    expect(foreign.status).toBe(404);
    expect(missing.status).toBe(404);
    // Byte for byte the same page, once each URL's own id (echoed in the language switch) is set aside.
    expect((await foreign.text()).replaceAll(id, '<id>')).toBe((await missing.text()).replaceAll('00000000-0000-4000-8000-000000000000', '<id>'));
    expect((await post(`/consent/${id}`, { csrf: stranger.csrf, decision: 'approve', categories: 'score.band' }, stranger.cookie)).status).toBe(404);
    expect(await statusOf(id)).toBe('PENDING');
  });

  it('lists requests waiting for an answer on /me, with a way to review each, and only the subject’s own', async () => {
    const mine = await ask({ subjectId: 'subject-pending', categories: ['score.band'] });
    await ask({ subjectId: 'subject-other' });
    const subject = await session('subject-pending');
    const page = await (await get('/me', subject.cookie)).text();
    expect(page).toContain('Waiting for your answer');
    expect(page).toContain(`href="/consent/${mine.id}"`);
    expect(page).toContain('aria-label="Review the request from Swift Car Rental"');
    expect(page.match(/href="\/consent\//g)).toHaveLength(1);
    const declined = await post(`/consent/${mine.id}`, { csrf: subject.csrf, decision: 'decline' }, subject.cookie);
    expect(declined.status).toBe(200); // no redirectUri: the result page
    expect(await (await get('/me', subject.cookie)).text()).not.toContain('Waiting for your answer');
  });

  it('sends the safety headers: no caching, no framing, no referrer', async () => {
    const { id } = await ask();
    const owner = await session('subject-1');
    const res = await get(`/consent/${id}`, owner.cookie);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('refuses a decision without the session’s CSRF token', async () => {
    const { id } = await ask();
    const owner = await session('subject-1');
    const res = await post(`/consent/${id}`, { csrf: 'forged', decision: 'approve', categories: 'score.band' }, owner.cookie);
    expect(res.status).toBe(403);
    expect(await statusOf(id)).toBe('PENDING');
  });

  it('asks again when nothing is ticked, and redirects to the registered URI after approval, keeping its query', async () => {
    const redirectUri = 'https://partner.example/callback?src=consentry';
    const { id } = await ask({ redirectUri });
    const owner = await session('subject-1');
    const empty = await post(`/consent/${id}`, { csrf: owner.csrf, decision: 'approve' }, owner.cookie);
    expect(empty.status).toBe(400);
    expect(await empty.text()).toContain('Select at least one item to approve, or choose Decline.');

    const res = await post(`/consent/${id}`, { csrf: owner.csrf, decision: 'approve', categories: ['score.band'] }, owner.cookie);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`https://partner.example/callback?src=consentry&request_id=${id}&outcome=approved`);
    const after = (await graphql(gw.url, token, CONSENT_REQUEST, { id })).body.data.consentRequest;
    expect(after).toMatchObject({ status: 'APPROVED', consent: { categories: ['score.band'] } });
    const audited = await gw.services.db.query<{ actor_type: string; actor_id: string; channel: string; request_id: string }>(
      `SELECT actor_type, actor_id, details->>'channel' AS channel, details->>'requestId' AS request_id
       FROM audit_events WHERE kind = 'consent.granted' AND consent_ids ? $1`,
      [after.consent.id],
    );
    // The subject acts under its pseudonym: audit events never hold its id.
    const pseudonym = await gw.services.pseudonyms.forSubject(gw.services.db, 'subject-1');
    expect(audited).toEqual([{ actor_type: 'subject', actor_id: pseudonym, channel: 'page', request_id: id }]);

    const again = await get(`/consent/${id}`, owner.cookie);
    const page = await again.text();
    expect(page).toContain('You have already approved this request.');
    expect(page).not.toContain('name="decision"');
  });

  it('shows a result page after declining a request that has no redirect URI', async () => {
    const { id } = await ask();
    const owner = await session('subject-1');
    const res = await post(`/consent/${id}`, { csrf: owner.csrf, decision: 'decline' }, owner.cookie);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('You declined the request from Swift Car Rental. Nothing is shared.');
    expect(await statusOf(id)).toBe('DECLINED');
    const audited = await gw.services.db.query<{ actor_id: string; channel: string }>(
      `SELECT actor_id, details->>'channel' AS channel FROM audit_events WHERE kind = 'consent.declined' AND details->>'requestId' = $1`,
      [id],
    );
    expect(audited).toEqual([{ actor_id: await gw.services.pseudonyms.forSubject(gw.services.db, 'subject-1'), channel: 'page' }]);
  });

  it('shows a lapsed request as lapsed, without the form', async () => {
    const { id } = await ask();
    offsetMs = 8 * DAY;
    try {
      const owner = await session('subject-1');
      const page = await (await get(`/consent/${id}`, owner.cookie)).text();
      expect(page).toContain('This request has lapsed without an answer.');
      expect(page).not.toContain('name="decision"');
    } finally {
      offsetMs = 0;
    }
  });

  it('chooses Chinese from Accept-Language and remembers ?lang', async () => {
    const zh = await get('/signin', undefined, { 'accept-language': 'zh-CN,zh;q=0.9' });
    expect(await zh.text()).toContain('<html lang="zh-CN">');
    const switched = await get('/signin?lang=en', undefined, { 'accept-language': 'zh-CN' });
    expect(switched.headers.getSetCookie().join()).toContain('consentry_lang=en');
    expect(await (await get('/signin', 'consentry_lang=en', { 'accept-language': 'zh-CN' })).text()).toContain('<html lang="en">');
  });

  it('signs in with a pasted token only with the form’s CSRF cookie, then signs out', async () => {
    const form = await get('/signin?next=%2Fme');
    const csrfCookie = form.headers.getSetCookie().find((c) => c.startsWith('consentry_signin_csrf='))!.split(';')[0]!;
    const csrf = csrfCookie.split('=')[1]!;
    const subjectToken = await gw.services.tokens.issueRoleToken('subject-1', ['subject'], 900);

    expect((await post('/signin', { csrf, token: subjectToken, next: '/me' })).status).toBe(403);
    const bad = await post('/signin', { csrf, token: 'not-a-token', next: '/me' }, csrfCookie);
    expect(bad.status).toBe(401);
    const offSite = await post('/signin', { csrf, token: subjectToken, next: '//evil.example/' }, csrfCookie);
    expect(offSite.headers.get('location')).toBe('/me');
    const ok = await post('/signin', { csrf, token: subjectToken, next: '/me?after=MQ%3D%3D' }, csrfCookie);
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/me?after=MQ%3D%3D');
    const sessionCookie = ok.headers.getSetCookie().find((c) => c.startsWith('consentry_session='))!;
    expect(sessionCookie).toMatch(/HttpOnly/i);
    expect(sessionCookie).toMatch(/SameSite=Lax/i);

    const sessionValue = sessionCookie.split(';')[0]!.split('=')[1]!;
    // The cookie holds a page session the gateway signed, not the pasted token, and no API takes it as a credential.
    expect(sessionValue).not.toBe(subjectToken);
    expect((await graphql(gw.url, sessionValue, '{ myConsents { id } }')).status).toBe(401);

    const me = await get('/me', sessionCookie.split(';')[0]);
    expect(me.status).toBe(200);
    expect((await post('/signout', { csrf: csrfTokenFor(subjectToken) }, sessionCookie.split(';')[0])).status).toBe(403);
    const out = await post('/signout', { csrf: csrfTokenFor(sessionValue) }, sessionCookie.split(';')[0]);
    expect(out.status).toBe(303);
    expect(out.headers.getSetCookie().join()).toMatch(/consentry_session=;/);
  });

  it('does not let one subject see or revoke another’s consent or receipt from the pages', async () => {
    const { id } = await ask();
    const owner = await session('subject-1');
    await post(`/consent/${id}`, { csrf: owner.csrf, decision: 'approve', categories: ['score.band'] }, owner.cookie);
    const consentId = (await graphql(gw.url, token, CONSENT_REQUEST, { id })).body.data.consentRequest.consent.id;
    const stranger = await session('subject-2');
    for (const path of [`/me/consents/${consentId}/revoke`, `/me/receipts/${consentId}`, `/me/receipts/${consentId}/download`]) {
      expect((await get(path, stranger.cookie)).status).toBe(404);
    }
    expect((await post(`/me/consents/${consentId}/revoke`, { csrf: stranger.csrf }, stranger.cookie)).status).toBe(404);
    const download = await get(`/me/receipts/${consentId}/download`, owner.cookie);
    expect(download.headers.get('content-disposition')).toBe(`attachment; filename="consent-${consentId}.jws"`);
    expect((await download.text()).split('.')).toHaveLength(3);
  });
});

describe('sign-in in production', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway('pglite', { env: { NODE_ENV: 'production' } });
  });
  afterAll(() => gw?.close());

  it('offers no token form and refuses pasted tokens', async () => {
    const page = await (await fetch(`${gw.url}/signin`)).text();
    expect(page).not.toContain('name="token"');
    expect(page).toContain('No sign-in method is configured.');
    const token = await gw.services.tokens.issueRoleToken('subject-1', ['subject'], 900);
    const res = await fetch(`${gw.url}/signin`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }),
    });
    expect(res.status).toBe(404);
    expect(res.headers.getSetCookie()).toEqual([]);
  });
});
