import { randomUUID } from 'node:crypto';
import { compactVerify, createLocalJWKSet, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertConsent } from '../../../src/store/consents.js';
import { STORE_KINDS } from '../../fixtures/stores.js';
import { createTestPartner, graphql, partnerToken, startGateway, type TestGateway } from '../../fixtures/gateway.js';
import { sampleEvents } from './auditGateway.js';

const EVENTS = `query($filter: AuditFilter, $first: Int, $after: String) {
  auditEvents(filter: $filter, first: $first, after: $after) {
    edges { cursor node { seq at kind actor partnerId subjectId purpose requestId released denied { category code } consentIds details prevHash hash } }
    pageInfo { hasNextPage endCursor }
  }
}`;

const COMPLIANCE_OPERATIONS: [string, string][] = [
  ['auditEvents', '{ auditEvents { edges { cursor } } }'],
  ['consents', '{ consents { edges { cursor } } }'],
  ['auditIntegrity', '{ auditIntegrity { ok } }'],
  ['partnerReport', '{ partnerReport(partnerId: "p_alpha") { requests } }'],
  ['auditCheckpoints', '{ auditCheckpoints { seq } }'],
  ['createAuditCheckpoint', 'mutation { createAuditCheckpoint { seq } }'],
];

describe.each(STORE_KINDS)('compliance queries on %s', (kind) => {
  let gw: TestGateway;
  let officer: string;

  beforeAll(async () => {
    gw = await startGateway(kind);
    officer = await gw.services.tokens.issueRoleToken('officer-1', ['compliance'], 900);
    await gw.services.auditLog.append(sampleEvents(60));
  });
  afterAll(() => gw?.close());

  const events = async (variables: Record<string, unknown>) => {
    const res = await graphql(gw.url, officer, EVENTS, variables);
    expect(res.body.errors).toBeUndefined();
    return res.body.data.auditEvents as { edges: { cursor: string; node: any }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
  };

  describe('who may ask', () => {
    it.each(COMPLIANCE_OPERATIONS)('%s: FORBIDDEN for a partner and a subject, 401 without a token', async (field, query) => {
      const partner = await createTestPartner(gw.services);
      const tokens = {
        partner: await partnerToken(gw.url, partner),
        subject: await gw.services.tokens.issueRoleToken('s_1', ['subject'], 900),
      };
      for (const token of Object.values(tokens)) {
        const res = await graphql(gw.url, token, query);
        expect(res.status).toBe(200);
        expect(res.body.data ?? null).toBeNull();
        expect(res.body.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'FORBIDDEN', field }) })]);
      }
      const anonymous = await graphql(gw.url, undefined, query);
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    });

    it('lets an operator sign a checkpoint but not read events', async () => {
      const admin = await gw.services.tokens.issueRoleToken('operator-1', ['admin'], 900);
      const made = await graphql(gw.url, admin, 'mutation { createAuditCheckpoint { seq } }');
      expect(made.body.errors).toBeUndefined();
      const read = await graphql(gw.url, admin, '{ auditEvents { edges { cursor } } }');
      expect(read.body.errors?.[0].extensions.code).toBe('FORBIDDEN');
    });
  });

  describe('auditEvents', () => {
    it('returns events as hashed, with the actor as type:id', async () => {
      const page = await events({ first: 2 });
      const [first] = sampleEvents(1);
      expect(page.edges[0]!.node).toMatchObject({
        seq: '1',
        at: first!.at.toISOString(),
        kind: 'access',
        actor: 'partner:p_alpha',
        partnerId: 'p_alpha',
        subjectId: 's_0',
        purpose: 'deposit_waiver',
        requestId: 'req-0',
        released: [],
        denied: [{ category: 'score.band', code: 'CONSENT_REQUIRED' }],
        consentIds: [],
        details: '{}',
        prevHash: '0'.repeat(64),
      });
      expect(page.edges[1]!.node.prevHash).toBe(page.edges[0]!.node.hash);
      expect(page.pageInfo).toEqual({ hasNextPage: true, endCursor: page.edges[1]!.cursor });
    });

    it.each([
      [{ partnerId: 'p_beta' }, (i: number) => i % 2 === 1],
      [{ subjectId: 's_3' }, (i: number) => i % 17 === 3],
      [{ decision: 'DENIED' }, (i: number) => i % 3 === 0 || i % 2 === 1],
      [{ decision: 'RELEASED' }, (i: number) => i % 3 !== 0],
      [{ denialCode: 'INSUFFICIENT_SCOPE' }, (i: number) => i % 3 !== 0 && i % 2 === 1],
      [{ purpose: 'credit_underwriting' }, (i: number) => i % 2 === 1],
      [{ category: 'score.value' }, (i: number) => i % 3 !== 0 && i % 2 === 1],
      [{ category: 'score.band', decision: 'DENIED', partnerId: 'p_alpha' }, (i: number) => i % 2 === 0 && i % 3 === 0],
      [{ from: '2026-03-01T09:10:00.000Z', to: '2026-03-01T09:20:00.000Z' }, (i: number) => i >= 10 && i < 20],
      [{ kind: 'consent.granted' }, () => false],
    ] as [Record<string, string>, (i: number) => boolean][])('filters by %j', async (filter, expected) => {
      const page = await events({ filter, first: 500 });
      const want = sampleEvents(60)
        .map((_, i) => i)
        .filter(expected)
        .map((i) => String(i + 1));
      expect(page.edges.map((e) => e.node.seq)).toEqual(want);
    });

    it('pages without duplicates or gaps while events are appended', async () => {
      const seen: string[] = [];
      let after: string | null = null;
      for (let round = 0; ; round++) {
        const page = await events({ first: 7, after });
        seen.push(...page.edges.map((e) => e.node.seq));
        // New decisions land between page reads, as they do in production.
        if (round < 5) await gw.services.auditLog.append(sampleEvents(3, new Date('2026-03-05T00:00:00.000Z')));
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      const [{ n }] = (await gw.services.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events')) as [{ n: number }];
      expect(seen).toEqual(Array.from({ length: n }, (_, i) => String(i + 1)));
    });

    it('caps the page size and refuses a forged cursor', async () => {
      const page = await events({ first: 100_000 });
      expect(page.edges.length).toBeLessThanOrEqual(500);
      const bad = await graphql(gw.url, officer, EVENTS, { after: 'not-a-cursor' });
      expect(bad.body.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    });
  });

  it('lists consents with their status computed against the clock', async () => {
    const partner = await createTestPartner(gw.services);
    const now = gw.services.clock();
    const day = 86_400_000;
    const base = { subjectId: 's_consents', partnerId: partner.id, purpose: 'deposit_waiver', categories: ['score.band'], channel: 'cli', requestId: null, policyVersion: 'test', receipt: 'x' };
    const active = await insertConsent(gw.services.db, { ...base, id: randomUUID(), grantedAt: new Date(now.getTime() - 3 * day), expiresAt: new Date(now.getTime() + day) });
    const expired = await insertConsent(gw.services.db, { ...base, id: randomUUID(), grantedAt: new Date(now.getTime() - 2 * day), expiresAt: new Date(now.getTime() - day) });
    const revoked = await insertConsent(gw.services.db, { ...base, id: randomUUID(), grantedAt: new Date(now.getTime() - day), expiresAt: new Date(now.getTime() + day) });
    await gw.services.db.query('UPDATE consents SET revoked_at = $1 WHERE id = $2', [now, revoked.id]);
    const query = `query($filter: ConsentFilter, $after: String) { consents(filter: $filter, first: 2, after: $after) {
      edges { node { id subjectId partnerId purpose categories status revokedAt } } pageInfo { hasNextPage endCursor } } }`;
    const all = await graphql(gw.url, officer, query, { filter: { partnerId: partner.id } });
    expect(all.body.data.consents.edges.map((e: any) => [e.node.id, e.node.status])).toEqual([
      [active.id, 'ACTIVE'],
      [expired.id, 'EXPIRED'],
    ]);
    expect(all.body.data.consents.pageInfo.hasNextPage).toBe(true);
    const rest = await graphql(gw.url, officer, query, { filter: { partnerId: partner.id }, after: all.body.data.consents.pageInfo.endCursor });
    expect(rest.body.data.consents.edges.map((e: any) => [e.node.id, e.node.status])).toEqual([[revoked.id, 'REVOKED']]);
    for (const [status, id] of [['ACTIVE', active.id], ['EXPIRED', expired.id], ['REVOKED', revoked.id]]) {
      const res = await graphql(gw.url, officer, query, { filter: { partnerId: partner.id, status } });
      expect(res.body.data.consents.edges.map((e: any) => e.node.id)).toEqual([id]);
    }
  });

  it('reports one partner by category, purpose, denial code and day', async () => {
    const res = await graphql(
      gw.url,
      officer,
      `{ partnerReport(partnerId: "p_alpha", from: "2026-03-01T00:00:00Z", to: "2026-03-02T00:00:00Z") {
        partnerId from to requests accessEvents distinctSubjects releasedEvents deniedEvents
        releasedByCategory { category count } deniedByCategory { category count } deniedByCode { code count }
        byPurpose { purpose accessEvents releasedEvents deniedEvents } perDay { day accessEvents releasedEvents deniedEvents }
        probing { flagged reasons accessEvents }
      } }`,
    );
    expect(res.body.errors).toBeUndefined();
    // p_alpha has the even i of 0..59: 30 events, denied when i % 3 == 0 (10 of them), never out of scope.
    expect(res.body.data.partnerReport).toEqual({
      partnerId: 'p_alpha',
      from: '2026-03-01T00:00:00.000Z',
      to: '2026-03-02T00:00:00.000Z',
      requests: 30,
      accessEvents: 30,
      distinctSubjects: 17,
      releasedEvents: 20,
      deniedEvents: 10,
      releasedByCategory: [{ category: 'score.band', count: 20 }],
      deniedByCategory: [{ category: 'score.band', count: 10 }],
      deniedByCode: [{ code: 'CONSENT_REQUIRED', count: 10 }],
      byPurpose: [{ purpose: 'deposit_waiver', accessEvents: 30, releasedEvents: 20, deniedEvents: 10 }],
      perDay: [{ day: '2026-03-01', accessEvents: 30, releasedEvents: 20, deniedEvents: 10 }],
      probing: { flagged: false, reasons: [], accessEvents: 0 },
    });
  });

  it('signs checkpoints verifiable with the published JWKS, latest first', async () => {
    const first = await graphql(gw.url, officer, 'mutation { createAuditCheckpoint { seq headHash at kid jws } }');
    await gw.services.auditLog.append(sampleEvents(2));
    const second = await graphql(gw.url, officer, 'mutation { createAuditCheckpoint { seq headHash at kid jws } }');
    const list = await graphql(gw.url, officer, '{ auditCheckpoints(first: 2) { seq headHash kid jws } }');
    const latest = second.body.data.createAuditCheckpoint;
    expect(list.body.data.auditCheckpoints.map((c: any) => c.seq)).toEqual([latest.seq, first.body.data.createAuditCheckpoint.seq]);
    const jwks = (await (await fetch(`${gw.url}/.well-known/jwks.json`)).json()) as { keys: any[] };
    const { payload, protectedHeader } = await compactVerify(latest.jws, createLocalJWKSet(jwks));
    expect(protectedHeader).toEqual({ alg: 'ES256', kid: latest.kid, typ: 'audit-checkpoint+jws' });
    expect(JSON.parse(new TextDecoder().decode(payload))).toEqual({ seq: latest.seq, headHash: latest.headHash, at: latest.at, issuer: gw.url });
    expect(decodeProtectedHeader(latest.jws).typ).not.toBe('at+jwt');
    const [head] = await gw.services.db.query<{ seq: string; hash: string }>('SELECT seq::text AS seq, hash FROM audit_head');
    expect(latest).toMatchObject({ seq: head!.seq, headHash: head!.hash });
  });
});
