import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/clock.js';
import { STORE_KINDS } from '../fixtures/stores.js';
import { createTestPartner, graphql, partnerToken, startGateway, type TestGateway, type TestPartner } from '../fixtures/gateway.js';
import {
  APPROVE,
  CONSENT_REQUEST,
  DECLINE,
  MY_ACCESS_LOG,
  MY_CONSENTS,
  REQUEST_CONSENT,
  REVOKE,
  partnerRead,
  seedSubject,
} from '../fixtures/consentScenario.js';

const DAY = 86_400_000;
const CALLBACK = 'https://partner.example/callback';

describe.each(STORE_KINDS)('consent lifecycle over GraphQL on %s', (kind) => {
  let gw: TestGateway;
  let partner: TestPartner;
  let otherPartner: TestPartner;
  let token: string;
  let otherToken: string;
  let offsetMs = 0;
  const clock: Clock = () => new Date(Date.now() + offsetMs);
  const subjectToken = (sub: string) => gw.services.tokens.issueRoleToken(sub, ['subject'], 900);

  const ask = (overrides: Record<string, unknown> = {}, as = token) =>
    graphql(gw.url, as, REQUEST_CONSENT, {
      input: { subjectId: 'subject-1', purpose: 'deposit_waiver', categories: ['score.band', 'score.value', 'identity.verified'], durationDays: 30, redirectUri: CALLBACK, ...overrides },
    });
  const badInput = (body: { errors?: any[] }) => {
    expect(body.errors).toHaveLength(1);
    return { code: body.errors![0].extensions.code, field: body.errors![0].extensions.field, message: body.errors![0].message };
  };

  beforeAll(async () => {
    gw = await startGateway(kind, { clock });
    partner = await createTestPartner(gw.services, {
      name: 'Swift Car Rental',
      scopes: ['score.threshold', 'score.band', 'score.value', 'identity.verified'],
      redirectUris: [CALLBACK],
    });
    otherPartner = await createTestPartner(gw.services, { name: 'Other Hotel' });
    token = await partnerToken(gw.url, partner);
    otherToken = await partnerToken(gw.url, otherPartner);
    await seedSubject(gw.services, 'subject-1');
    await seedSubject(gw.services, 'subject-2', 640);
  });
  afterAll(() => gw?.close());
  beforeEach(() => {
    offsetMs = 0;
  });

  describe('requestConsent refuses', () => {
    it('a category outside the partner’s approved scopes', async () => {
      const { body } = await ask({ categories: ['score.band', 'score.history'] });
      expect(badInput(body)).toEqual({ code: 'BAD_USER_INPUT', field: 'categories', message: `Partner ${partner.id} is not approved for: score.history.` });
      expect(body.data).toBeNull();
    });

    it('a category missing from the registry', async () => {
      const { body } = await ask({ categories: ['score.shoe_size'] });
      expect(badInput(body)).toEqual({ code: 'BAD_USER_INPUT', field: 'categories', message: 'Unknown categories: score.shoe_size.' });
    });

    it.each([0, 366])('a duration of %i days', async (durationDays) => {
      const { body } = await ask({ durationDays });
      expect(badInput(body)).toEqual({
        code: 'BAD_USER_INPUT',
        field: 'durationDays',
        message: 'The duration must be a whole number of days from 1 to 365.',
      });
    });

    it('a redirect URI the partner did not register', async () => {
      const { body } = await ask({ redirectUri: 'https://evil.example/callback' });
      expect(badInput(body)).toEqual({
        code: 'BAD_USER_INPUT',
        field: 'redirectUri',
        message: 'redirectUri is not one of the redirect URIs registered for this partner.',
      });
    });

    it('a purpose the partner is not approved for', async () => {
      const { body } = await ask({ purpose: 'tenant_screening' });
      expect(badInput(body)).toEqual({ code: 'BAD_USER_INPUT', field: 'purpose', message: `Partner ${partner.id} is not approved for purpose tenant_screening.` });
    });

    it('callers without the partner role', async () => {
      const { body } = await ask({}, await subjectToken('subject-1'));
      expect(body.errors![0].extensions.code).toBe('FORBIDDEN');
    });
  });

  it('happy path: request → approve a subset → partner reads exactly that → revoke → denied', async () => {
    const created = await ask();
    expect(created.status).toBe(200);
    const request = created.body.data.requestConsent;
    const now = Date.now();
    expect(request).toMatchObject({
      status: 'PENDING',
      approvalUrl: `${gw.url}/consent/${request.id}`,
      purpose: 'deposit_waiver',
      categories: ['identity.verified', 'score.band', 'score.value'],
      consent: null,
    });
    expect(Math.abs(Date.parse(request.expiresAt) - (now + 7 * DAY))).toBeLessThan(60_000);

    const subject = await subjectToken('subject-1');
    const seenBySubject = await graphql(gw.url, subject, CONSENT_REQUEST, { id: request.id });
    expect(seenBySubject.body.data.consentRequest).toMatchObject({ id: request.id, status: 'PENDING' });

    // Before consent: nothing released.
    const before = await partnerRead(gw.url, token, 'subject-1');
    expect(before.denied).toEqual({ 'score.band': 'CONSENT_REQUIRED', 'score.value': 'CONSENT_REQUIRED', identity: 'CONSENT_REQUIRED' });

    const approved = await graphql(gw.url, subject, APPROVE, { id: request.id, categories: ['score.band', 'identity.verified'] });
    const consent = approved.body.data.approveConsentRequest;
    expect(consent).toMatchObject({
      subjectId: 'subject-1',
      partnerId: partner.id,
      purpose: 'deposit_waiver',
      categories: ['identity.verified', 'score.band'],
      status: 'ACTIVE',
      revokedAt: null,
    });
    expect(Date.parse(consent.expiresAt) - Date.parse(consent.grantedAt)).toBe(30 * DAY);
    expect(consent.receipt.split('.')).toHaveLength(3);

    const afterApproval = await graphql(gw.url, token, CONSENT_REQUEST, { id: request.id });
    expect(afterApproval.body.data.consentRequest).toMatchObject({ status: 'APPROVED', consent: { id: consent.id, categories: ['identity.verified', 'score.band'], status: 'ACTIVE' } });

    const read = await partnerRead(gw.url, token, 'subject-1');
    expect(read.data).toEqual({ id: 'subject-1', score: { band: 'EXCELLENT', value: null }, identity: { verified: true } });
    expect(read.denied).toEqual({ 'score.value': 'CONSENT_REQUIRED' });

    const mine = await graphql(gw.url, subject, MY_CONSENTS, {});
    expect(mine.body.data.myConsents).toEqual([
      { id: consent.id, partnerId: partner.id, purpose: 'deposit_waiver', categories: ['identity.verified', 'score.band'], status: 'ACTIVE', revokedAt: null },
    ]);
    const log = await graphql(gw.url, subject, MY_ACCESS_LOG, { first: 1 });
    expect(log.body.data.myAccessLog.edges[0].node).toMatchObject({
      partnerId: partner.id,
      partnerName: 'Swift Car Rental',
      purpose: 'deposit_waiver',
      released: ['identity.verified', 'score.band'],
      denied: ['score.value'],
    });
    expect(log.body.data.myAccessLog.pageInfo.hasNextPage).toBe(true);
    const older = await graphql(gw.url, subject, MY_ACCESS_LOG, { first: 5, after: log.body.data.myAccessLog.pageInfo.endCursor });
    expect(older.body.data.myAccessLog.edges.map((e: any) => e.node.released)).toEqual([[]]);
    expect(older.body.data.myAccessLog.pageInfo).toEqual({ hasNextPage: false, endCursor: older.body.data.myAccessLog.edges[0].cursor });

    const revoked = await graphql(gw.url, subject, REVOKE, { id: consent.id });
    expect(revoked.body.data.revokeConsent).toMatchObject({ id: consent.id, status: 'REVOKED' });
    const afterRevoke = await partnerRead(gw.url, token, 'subject-1');
    expect(afterRevoke.denied).toEqual({ 'score.band': 'CONSENT_REQUIRED', 'score.value': 'CONSENT_REQUIRED', identity: 'CONSENT_REQUIRED' });

    expect((await graphql(gw.url, subject, MY_CONSENTS, {})).body.data.myConsents).toEqual([]);
    expect((await graphql(gw.url, subject, MY_CONSENTS, { all: true })).body.data.myConsents).toMatchObject([{ id: consent.id, status: 'REVOKED' }]);

    const events = await gw.services.db.query<{ kind: string; actor_type: string; actor_id: string; details: Record<string, unknown> }>(
      `SELECT kind, actor_type, actor_id, details FROM audit_events WHERE kind LIKE 'consent.%' AND $1 = ANY(ARRAY(SELECT jsonb_array_elements_text(consent_ids))) ORDER BY seq`,
      [consent.id],
    );
    // The subject acts under its pseudonym: the log never holds its id.
    const pseudonym = await gw.services.pseudonyms.forSubject(gw.services.db, 'subject-1');
    expect(pseudonym).toMatch(/^sp_[0-9a-f]{64}$/);
    expect(events.map((e) => [e.kind, e.actor_type, e.actor_id, e.details.channel])).toEqual([
      ['consent.granted', 'subject', pseudonym, 'api'],
      ['consent.revoked', 'subject', pseudonym, 'api'],
    ]);
  });

  it('refuses approving twice, and approving a declined request', async () => {
    const subject = await subjectToken('subject-1');
    const first = (await ask()).body.data.requestConsent;
    expect((await graphql(gw.url, subject, APPROVE, { id: first.id })).body.data.approveConsentRequest.status).toBe('ACTIVE');
    const again = await graphql(gw.url, subject, APPROVE, { id: first.id });
    expect(badInput(again.body)).toEqual({ code: 'BAD_USER_INPUT', field: 'id', message: 'This consent request has already been approved.' });

    const second = (await ask()).body.data.requestConsent;
    const declined = await graphql(gw.url, subject, DECLINE, { id: second.id });
    expect(declined.body.data.declineConsentRequest).toEqual({ id: second.id, status: 'DECLINED', consent: null });
    const approveDeclined = await graphql(gw.url, subject, APPROVE, { id: second.id });
    expect(badInput(approveDeclined.body)).toEqual({ code: 'BAD_USER_INPUT', field: 'id', message: 'This consent request has already been declined.' });
  });

  it('refuses an approved subset that is empty or not requested', async () => {
    const subject = await subjectToken('subject-1');
    const request = (await ask()).body.data.requestConsent;
    expect(badInput((await graphql(gw.url, subject, APPROVE, { id: request.id, categories: [] })).body)).toMatchObject({ field: 'categories' });
    expect(badInput((await graphql(gw.url, subject, APPROVE, { id: request.id, categories: ['score.threshold'] })).body)).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'categories',
      message: 'categories may only include requested categories; not requested: score.threshold.',
    });
  });

  it('treats someone else’s request exactly like a missing one', async () => {
    const request = (await ask()).body.data.requestConsent;
    const stranger = await subjectToken('subject-2');
    const foreign = await graphql(gw.url, stranger, APPROVE, { id: request.id });
    const missing = await graphql(gw.url, stranger, APPROVE, { id: '00000000-0000-4000-8000-000000000000' });
    expect(foreign).toEqual(missing);
    expect(badInput(foreign.body)).toEqual({ code: 'NOT_FOUND', field: undefined, message: 'No such consent request.' });
    expect((await graphql(gw.url, stranger, CONSENT_REQUEST, { id: request.id })).body).toEqual({ data: { consentRequest: null } });
    expect((await graphql(gw.url, otherToken, CONSENT_REQUEST, { id: request.id })).body).toEqual({ data: { consentRequest: null } });
    expect((await graphql(gw.url, stranger, DECLINE, { id: request.id })).body).toEqual((await graphql(gw.url, stranger, DECLINE, { id: 'nope' })).body);
  });

  it('lets a request lapse after 7 days: EXPIRED, recorded, not approvable', async () => {
    const request = (await ask()).body.data.requestConsent;
    offsetMs = 7 * DAY + 60_000;
    const subject = await subjectToken('subject-1');
    const approve = await graphql(gw.url, subject, APPROVE, { id: request.id });
    expect(badInput(approve.body)).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'id',
      message: `This consent request expired at ${request.expiresAt} without an answer.`,
    });
    expect((await graphql(gw.url, subject, CONSENT_REQUEST, { id: request.id })).body.data.consentRequest.status).toBe('EXPIRED');
    const recorded = await gw.services.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM audit_events WHERE kind = 'consent.request_expired' AND details->>'requestId' = $1`,
      [request.id],
    );
    expect(Number(recorded[0]!.n)).toBe(1);
  });

  it('shows a consent past its end as EXPIRED and records the expiry', async () => {
    const subject = await subjectToken('subject-2');
    const request = (await ask({ subjectId: 'subject-2', durationDays: 1 })).body.data.requestConsent;
    const consent = (await graphql(gw.url, subject, APPROVE, { id: request.id })).body.data.approveConsentRequest;
    offsetMs = 2 * DAY;
    const later = await gw.services.tokens.issueRoleToken('subject-2', ['subject'], 900);
    expect((await graphql(gw.url, later, MY_CONSENTS, {})).body.data.myConsents).toEqual([]);
    expect((await graphql(gw.url, later, MY_CONSENTS, { all: true })).body.data.myConsents).toMatchObject([{ id: consent.id, status: 'EXPIRED', revokedAt: null }]);
    const revoke = await graphql(gw.url, later, REVOKE, { id: consent.id });
    expect(badInput(revoke.body)).toEqual({ code: 'BAD_USER_INPUT', field: 'id', message: 'This consent has already expired.' });
    const recorded = await gw.services.db.query<{ actor_type: string }>(
      `SELECT actor_type FROM audit_events WHERE kind = 'consent.expired' AND consent_ids ? $1`,
      [consent.id],
    );
    expect(recorded).toEqual([{ actor_type: 'system' }]);
  });

  it('refuses revoking someone else’s consent (as missing) and revoking twice', async () => {
    const owner = await subjectToken('subject-1');
    const request = (await ask()).body.data.requestConsent;
    const consent = (await graphql(gw.url, owner, APPROVE, { id: request.id })).body.data.approveConsentRequest;
    const stranger = await subjectToken('subject-2');
    const foreign = await graphql(gw.url, stranger, REVOKE, { id: consent.id });
    expect(foreign).toEqual(await graphql(gw.url, stranger, REVOKE, { id: '00000000-0000-4000-8000-000000000000' }));
    expect(badInput(foreign.body).code).toBe('NOT_FOUND');
    expect((await graphql(gw.url, owner, REVOKE, { id: consent.id })).body.data.revokeConsent.status).toBe('REVOKED');
    expect(badInput((await graphql(gw.url, owner, REVOKE, { id: consent.id })).body)).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'id',
      message: 'This consent has already been revoked.',
    });
  });

  it('answers a request for a nonexistent subject exactly like one for a real subject', async () => {
    const normalise = (r: { status: number; body: any }) =>
      JSON.parse(
        JSON.stringify(r)
          .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>')
          .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<time>'),
      );
    const real = await ask({ subjectId: 'subject-1' });
    const ghost = await ask({ subjectId: 'no-such-subject-42' });
    expect(normalise(ghost)).toEqual(normalise(real));
    const readReal = await graphql(gw.url, token, CONSENT_REQUEST, { id: real.body.data.requestConsent.id });
    const readGhost = await graphql(gw.url, token, CONSENT_REQUEST, { id: ghost.body.data.requestConsent.id });
    expect(normalise(readGhost)).toEqual(normalise(readReal));
    const invalidReal = await ask({ subjectId: 'subject-1', durationDays: 0 });
    const invalidGhost = await ask({ subjectId: 'no-such-subject-42', durationDays: 0 });
    expect(invalidGhost).toEqual(invalidReal);
  });

  it('rejects a malformed access-log cursor', async () => {
    const res = await graphql(gw.url, await subjectToken('subject-1'), MY_ACCESS_LOG, { after: 'bm90LWEtc2Vx' });
    expect(badInput(res.body)).toEqual({ code: 'BAD_USER_INPUT', field: 'after', message: 'after is not a cursor from this connection.' });
  });
});
