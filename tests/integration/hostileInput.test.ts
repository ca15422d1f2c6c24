import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_AUDIT_EVENT_BYTES } from '../../src/audit/chain.js';
import type { Database } from '../../src/store/database.js';
import { STORE_KINDS } from '../fixtures/stores.js';
import { MY_ACCESS_LOG } from '../fixtures/consentScenario.js';
import { consentTo, seedSubjects } from '../fixtures/subjects.js';
import { createTestPartner, graphql, partnerToken, startGateway, type TestGateway, type TestPartner } from '../fixtures/gateway.js';

const READ = `query($id: ID!, $purpose: String!) { subject(id: $id, purpose: $purpose) { id score { value } } }`;

async function auditRowCount(db: Database): Promise<number> {
  const [row] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events`);
  return row!.n;
}

describe.each(STORE_KINDS)('hostile input on %s', (kind) => {
  let gw: TestGateway;
  let lender: TestPartner;
  let attacker: TestPartner;
  let lenderToken: string;
  let attackerToken: string;

  beforeAll(async () => {
    gw = await startGateway(kind, { env: { CONSENTRY_RATE_LIMIT: '100000' } });
    lender = await createTestPartner(gw.services, { purposes: ['credit_underwriting'] });
    attacker = await createTestPartner(gw.services, { purposes: ['credit_underwriting'] });
    await seedSubjects(gw.services, [['alice', 720], ['bob', 610]]);
    await consentTo(gw.services, 'alice', lender.id, 'credit_underwriting', ['score.value']);
    lenderToken = await partnerToken(gw.url, lender);
    attackerToken = await partnerToken(gw.url, attacker);
  });
  afterAll(() => gw?.close());

  it("one partner's malformed requests fail only themselves: a concurrent partner loses none", async () => {
    const malformed = [
      { id: 'alice', purpose: 'credit_under\u0000writing' },
      { id: 'ali\u0000ce', purpose: 'credit_underwriting' },
      { id: 'x'.repeat(200_000), purpose: 'credit_underwriting' },
      { id: 'alice', purpose: 'credit_\ud800underwriting' },
    ];
    const attacks = Array.from({ length: 40 }, (_, i) => graphql(gw.url, attackerToken, READ, malformed[i % malformed.length]));
    const reads = Array.from({ length: 40 }, () => graphql(gw.url, lenderToken, READ, { id: 'alice', purpose: 'credit_underwriting' }));
    const [attacked, served] = await Promise.all([Promise.all(attacks), Promise.all(reads)]);
    for (const res of served) expect(res).toEqual({ status: 200, body: { data: { subject: { id: 'alice', score: { value: 720 } } } } });
    for (const res of attacked) {
      expect(res.status).toBe(400);
      expect(res.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.body.data).toBeUndefined();
    }
  });

  // (graphql-js itself refuses a lone surrogate escape in a literal as a syntax error.)
  it('refuses control characters and over-long ids in literals too, with 400', async () => {
    for (const literal of ['"ali\\u0000ce"', `"${'y'.repeat(129)}"`]) {
      const res = await graphql(gw.url, attackerToken, `{ subject(id: ${literal}, purpose: "credit_underwriting") { id } }`);
      expect(res.status).toBe(400);
      expect(res.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
  });

  it('keeps audit rows bounded: an oversized purpose is refused before the log, and the log refuses oversized events', async () => {
    const before = await auditRowCount(gw.services.db);
    const res = await graphql(gw.url, attackerToken, READ, { id: 'alice', purpose: 'p'.repeat(100_000) });
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    await expect(
      gw.services.auditLog.append([
        { kind: 'access', at: new Date(), actorType: 'system', details: { note: 'n'.repeat(MAX_AUDIT_EVENT_BYTES) } },
      ]),
    ).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(await auditRowCount(gw.services.db)).toBe(before);
  });
});

describe.each(STORE_KINDS)('refusals before release on %s', (kind) => {
  let gw: TestGateway;
  let lender: TestPartner;
  let subjectToken: string;
  const q = `{ subject(id: "carol", purpose: "credit_underwriting") { score { value } } }`;
  const accessLog = async () => (await graphql(gw.url, subjectToken, MY_ACCESS_LOG, { first: 100 })).body.data.myAccessLog.edges;
  const accessEvents = async () =>
    gw.services.db.query<{ request_id: string }>(`SELECT request_id FROM audit_events WHERE kind = 'access' ORDER BY seq`);

  beforeAll(async () => {
    gw = await startGateway(kind, { env: { CONSENTRY_RATE_LIMIT: '3' } });
    lender = await createTestPartner(gw.services, { purposes: ['credit_underwriting'] });
    await seedSubjects(gw.services, [['carol', 700]]);
    await consentTo(gw.services, 'carol', lender.id, 'credit_underwriting', ['score.value']);
    subjectToken = await gw.services.tokens.issueRoleToken('carol', ['subject'], 900);
  });
  afterAll(() => gw?.close());

  it('writes nothing for requests refused by the query limits, a role check or the rate limit', async () => {
    const token = await partnerToken(gw.url, lender);
    const events = (await accessEvents()).length;
    const log = (await accessLog()).length;

    const aliases = Array.from({ length: 31 }, (_, i) => `a${i}: subject(id: "carol", purpose: "credit_underwriting") { id }`).join(' ');
    const tooMany = await graphql(gw.url, token, `{ ${aliases} }`);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');

    const wrongRole = await graphql(gw.url, token, `{ subject(id: "carol", purpose: "credit_underwriting") { score { value } } myConsents { id } }`);
    expect(wrongRole.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(wrongRole.body.data ?? null).toBeNull();

    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await graphql(gw.url, token, q)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);

    expect((await accessEvents()).length).toBe(events + 3);
    const after = await accessLog();
    expect(after.length).toBe(log + 3);
    for (const edge of after.slice(0, 3)) expect(edge.node.released).toEqual(['score.value']);
  });

  it('records requests under ids the gateway makes, whatever x-request-id the client sends', async () => {
    const other = await createTestPartner(gw.services, { purposes: ['credit_underwriting'] });
    const token = await partnerToken(gw.url, other);
    const before = (await accessEvents()).length;
    const responses = [];
    for (let i = 0; i < 3; i++) {
      responses.push(
        await fetch(`${gw.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-request-id': 'same-id' },
          body: JSON.stringify({ query: q }),
        }),
      );
    }
    const ids = (await accessEvents()).slice(before).map((e) => e.request_id);
    expect(new Set(ids).size).toBe(3);
    expect(ids).not.toContain('same-id');
    for (const res of responses) {
      expect(ids).toContain(res.headers.get('x-request-id'));
      expect(res.headers.get('x-correlation-id')).toBe('same-id');
    }
  });
});
