import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { updatePartner } from '../../src/store/partners.js';
import { STORE_KINDS } from '../fixtures/stores.js';
import { consentTo, seedSubjects } from '../fixtures/subjects.js';
import { clientAssertion, createTestPartner, graphql, partnerToken, startGateway, type TestGateway, type TestPartner } from '../fixtures/gateway.js';

const denied = (code: string, path: (string | number)[], category: string, purpose: string) =>
  expect.objectContaining({ path, extensions: { code, category, purpose } });

describe.each(STORE_KINDS)('the partner query path on %s', (kind) => {
  let gw: TestGateway;
  let rental: TestPartner;
  let token: string;

  beforeAll(async () => {
    gw = await startGateway(kind);
    rental = await createTestPartner(gw.services, {
      scopes: ['score.threshold', 'score.band', 'score.value', 'score.history', 'identity.verified'],
      purposes: ['deposit_waiver', 'post_pay'],
    });
    await seedSubjects(gw.services, [
      ['alice', 712],
      ['bob', 640],
      ['carol', 580],
    ]);
    await consentTo(gw.services, 'alice', rental.id, 'deposit_waiver', ['score.threshold', 'score.band', 'identity.verified']);
    await consentTo(gw.services, 'bob', rental.id, 'deposit_waiver', ['score.threshold']);
    token = await partnerToken(gw.url, rental);
  });
  afterAll(() => gw?.close());

  it('releases consented categories and denies the rest with the reason, the path, the category and the purpose', async () => {
    const res = await graphql(
      gw.url,
      token,
      `{ subject(id: "alice", purpose: "deposit_waiver") {
          id
          score { atLeast(threshold: 650) band value asOf model }
          identity { verified level }
      } }`,
    );
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({
      subject: {
        id: 'alice',
        score: { atLeast: true, band: 'EXCELLENT', value: null, asOf: '2026-05-31T00:00:00.000Z', model: 'consentry-test-1' },
        identity: { verified: true, level: 'L2' },
      },
    });
    expect(res.body.errors).toEqual([denied('CONSENT_REQUIRED', ['subject', 'score', 'value'], 'score.value', 'deposit_waiver')]);
  });

  it('answers the threshold question with one bit', async () => {
    const res = await graphql(gw.url, token, `{ subject(id: "bob", purpose: "deposit_waiver") { score { atLeast(threshold: 650) } } }`);
    expect(res.body).toEqual({ data: { subject: { score: { atLeast: false } } } });
  });

  it('denies a consented category that the token did not ask for: INSUFFICIENT_SCOPE', async () => {
    const narrow = await partnerToken(gw.url, rental, 'score.threshold');
    const res = await graphql(gw.url, narrow, `{ subject(id: "alice", purpose: "deposit_waiver") { score { atLeast(threshold: 600) band } } }`);
    expect(res.body.data).toEqual({ subject: { score: { atLeast: true, band: null } } });
    expect(res.body.errors).toEqual([denied('INSUFFICIENT_SCOPE', ['subject', 'score', 'band'], 'score.band', 'deposit_waiver')]);
  });

  it('refuses a purpose the partner is not approved for, with no data', async () => {
    const res = await graphql(gw.url, token, `{ subject(id: "alice", purpose: "credit_underwriting") { score { band } } }`);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ subject: null });
    expect(res.body.errors).toEqual([
      expect.objectContaining({ path: ['subject'], extensions: { code: 'PURPOSE_NOT_ALLOWED', purpose: 'credit_underwriting' } }),
    ]);
  });

  it('answers a nonexistent subject exactly like a subject who gave no consent', async () => {
    const query = (id: string) => `{ subject(id: "${id}", purpose: "deposit_waiver") { id score { atLeast(threshold: 650) band } identity { verified } } }`;
    // Same length as "carol", so error locations match too.
    const ghost = await graphql(gw.url, token, query('nobdy'));
    const silent = await graphql(gw.url, token, query('carol'));
    const strip = (body: typeof ghost.body) => JSON.stringify(body).replaceAll('nobdy', 'X').replaceAll('carol', 'X');
    expect(ghost.status).toBe(silent.status);
    expect(strip(ghost.body)).toBe(strip(silent.body));
    expect(silent.body.errors?.map((e) => e.extensions.code)).toEqual(['CONSENT_REQUIRED', 'CONSENT_REQUIRED', 'CONSENT_REQUIRED']);
  });

  describe('no selection dodges the decision', () => {
    const expectValueDenied = (res: Awaited<ReturnType<typeof graphql>>, path: (string | number)[]) => {
      expect(JSON.stringify(res.body.data)).not.toContain('712');
      expect(res.body.errors).toContainEqual(denied('CONSENT_REQUIRED', path, 'score.value', 'deposit_waiver'));
    };

    it('through an alias', async () => {
      const res = await graphql(gw.url, token, `{ a: subject(id: "alice", purpose: "deposit_waiver") { s: score { v: value b: band } } }`);
      expect(res.body.data).toEqual({ a: { s: { v: null, b: 'EXCELLENT' } } });
      expectValueDenied(res, ['a', 's', 'v']);
    });

    it('through a named fragment', async () => {
      const res = await graphql(
        gw.url,
        token,
        `query { subject(id: "alice", purpose: "deposit_waiver") { ...S } }
         fragment S on Subject { score { ...V } }
         fragment V on ScoreSummary { value }`,
      );
      expectValueDenied(res, ['subject', 'score', 'value']);
    });

    it('through an inline fragment and a fragment on the root', async () => {
      const res = await graphql(
        gw.url,
        token,
        `query { ...Root }
         fragment Root on Query { subject(id: "alice", purpose: "deposit_waiver") { ... on Subject { score { ... on ScoreSummary { value } } } } }`,
      );
      expectValueDenied(res, ['subject', 'score', 'value']);
    });

    it('through a variable and @include', async () => {
      const res = await graphql(
        gw.url,
        token,
        `query ($id: ID!, $p: String!, $show: Boolean!) { subject(id: $id, purpose: $p) { score { value @include(if: $show) } } }`,
        { id: 'alice', p: 'deposit_waiver', show: true },
      );
      expectValueDenied(res, ['subject', 'score', 'value']);
    });

    it('through a duplicated root field with another purpose', async () => {
      const res = await graphql(
        gw.url,
        token,
        `{ ok: subject(id: "alice", purpose: "deposit_waiver") { score { band } }
           other: subject(id: "alice", purpose: "post_pay") { score { band } } }`,
      );
      expect(res.body.data).toEqual({ ok: { score: { band: 'EXCELLENT' } }, other: { score: { band: null } } });
      expect(res.body.errors).toEqual([denied('CONSENT_REQUIRED', ['other', 'score', 'band'], 'score.band', 'post_pay')]);
    });

    it('in a batch that mixes consenting and non-consenting subjects', async () => {
      const res = await graphql(
        gw.url,
        token,
        `{ subjects(ids: ["alice", "bob", "carol", "ghost"], purpose: "deposit_waiver") { id score { atLeast(threshold: 650) band } } }`,
      );
      expect(res.body.data).toEqual({
        subjects: [
          { id: 'alice', score: { atLeast: true, band: 'EXCELLENT' } },
          { id: 'bob', score: { atLeast: false, band: null } },
          { id: 'carol', score: { atLeast: null, band: null } },
          { id: 'ghost', score: { atLeast: null, band: null } },
        ],
      });
      expect(res.body.errors?.map((e) => [e.path.join('.'), e.extensions.code]).sort()).toEqual([
        ['subjects.1.score.band', 'CONSENT_REQUIRED'],
        ['subjects.2.score.atLeast', 'CONSENT_REQUIRED'],
        ['subjects.2.score.band', 'CONSENT_REQUIRED'],
        ['subjects.3.score.atLeast', 'CONSENT_REQUIRED'],
        ['subjects.3.score.band', 'CONSENT_REQUIRED'],
      ]);
    });
  });

  it('keeps concurrent partners apart: each gets what was consented to it, and a suspended one nothing', async () => {
    // Concurrent requests share store reads; nothing may cross from one partner's answer to another's.
    const lender = await createTestPartner(gw.services, { purposes: ['deposit_waiver'], scopes: ['score.band', 'score.value'] });
    const stranger = await createTestPartner(gw.services, { purposes: ['deposit_waiver'], scopes: ['score.band', 'score.value'] });
    const suspended = await createTestPartner(gw.services, { purposes: ['deposit_waiver'], scopes: ['score.band', 'score.value'] });
    await consentTo(gw.services, 'carol', lender.id, 'deposit_waiver', ['score.band', 'score.value']);
    await consentTo(gw.services, 'carol', suspended.id, 'deposit_waiver', ['score.band', 'score.value']);
    const [lenderToken, strangerToken, suspendedToken] = await Promise.all([lender, stranger, suspended].map((p) => partnerToken(gw.url, p)));
    await updatePartner(gw.services.db, suspended.id, { status: 'suspended' }, new Date());
    const q = `{ subject(id: "carol", purpose: "deposit_waiver") { score { band value } } }`;

    const runs = Array.from({ length: 20 }, (_, i) => [lenderToken, strangerToken, suspendedToken][i % 3]!);
    const answers = await Promise.all(runs.map((t) => graphql(gw.url, t, q)));
    answers.forEach((res, i) => {
      if (i % 3 === 0) expect(res.body).toEqual({ data: { subject: { score: { band: 'FAIR', value: 580 } } } });
      if (i % 3 === 1) {
        expect(res.body.data).toEqual({ subject: { score: { band: null, value: null } } });
        expect(res.body.errors?.map((e) => e.extensions.code)).toEqual(['CONSENT_REQUIRED', 'CONSENT_REQUIRED']);
      }
      if (i % 3 === 2) {
        expect(res.status).toBe(403);
        expect(res.body.data).toBeUndefined();
      }
    });
  });

  describe('tokens', () => {
    it('refuses a missing token, a subject token, a consent receipt and a partner-signed JWT as UNAUTHENTICATED (401)', async () => {
      const q = `{ subject(id: "alice", purpose: "deposit_waiver") { score { band } } }`;
      const subjectToken = await gw.services.tokens.issueRoleToken('alice', ['subject'], 300);
      const receipt = (await consentTo(gw.services, 'bob', rental.id, 'post_pay', ['score.band'])).receipt;
      const selfSigned = await clientAssertion(gw.url, rental, { aud: gw.url });
      for (const t of [undefined, subjectToken, receipt, selfSigned, 'not-a-jwt']) {
        const res = await graphql(gw.url, t, q);
        expect(res.status).toBe(401);
        expect(res.body.data).toBeUndefined();
        expect(res.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      }
    });

    it('refuses a partner suspended after its token was issued, at once (403)', async () => {
      const hotel = await createTestPartner(gw.services, { purposes: ['post_pay'] });
      await consentTo(gw.services, 'alice', hotel.id, 'post_pay', ['score.band']);
      const hotelToken = await partnerToken(gw.url, hotel);
      const q = `{ subject(id: "alice", purpose: "post_pay") { score { band } } }`;
      expect((await graphql(gw.url, hotelToken, q)).body.data).toEqual({ subject: { score: { band: 'EXCELLENT' } } });
      await updatePartner(gw.services.db, hotel.id, { status: 'suspended' }, new Date());
      const res = await graphql(gw.url, hotelToken, q);
      expect(res.status).toBe(403);
      expect(res.body.data).toBeUndefined();
      expect(res.body.errors?.[0]?.extensions?.code).toBe('PARTNER_SUSPENDED');
    });

    it('applies a scope withdrawn from the partner to tokens already issued', async () => {
      const lender = await createTestPartner(gw.services, { purposes: ['deposit_waiver'], scopes: ['score.band', 'score.value'] });
      await consentTo(gw.services, 'alice', lender.id, 'deposit_waiver', ['score.band', 'score.value']);
      const t = await partnerToken(gw.url, lender);
      await updatePartner(gw.services.db, lender.id, { scopes: ['score.band'] }, new Date());
      const res = await graphql(gw.url, t, `{ subject(id: "alice", purpose: "deposit_waiver") { score { band value } } }`);
      expect(res.body.data).toEqual({ subject: { score: { band: 'EXCELLENT', value: null } } });
      expect(res.body.errors).toEqual([denied('INSUFFICIENT_SCOPE', ['subject', 'score', 'value'], 'score.value', 'deposit_waiver')]);
    });
  });
});
