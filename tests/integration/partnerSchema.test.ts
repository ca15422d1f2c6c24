import { readFile } from 'node:fs/promises';
import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPartner, graphql, partnerToken, startGateway, type TestGateway } from '../fixtures/gateway.js';
import { consentTo, seedSubjects } from '../fixtures/subjects.js';

const PUBLISHED = 'docs/partner-schema.graphql';

/** Root fields (query and mutation) an introspection answer shows. */
function rootFields(body: { data?: any }): { query: string[]; mutation: string[]; types: string[] } {
  const schema = body.data.__schema;
  const fieldsOf = (name: string | undefined) => (schema.types.find((t: any) => t.name === name)?.fields ?? []).map((f: any) => f.name).sort();
  return {
    query: fieldsOf(schema.queryType?.name),
    mutation: fieldsOf(schema.mutationType?.name),
    types: schema.types.map((t: any) => t.name).filter((n: string) => !n.startsWith('__')),
  };
}

describe('the published partner schema and introspection per role', () => {
  let gw: TestGateway;
  let partner: string;

  beforeAll(async () => {
    gw = await startGateway('pglite');
    partner = await partnerToken(gw.url, await createTestPartner(gw.services));
  });
  afterAll(() => gw?.close());

  it('serves the committed SDL at /schema/partner.graphql, public and cacheable with an ETag', async () => {
    const res = await fetch(`${gw.url}/schema/partner.graphql`);
    const served = await res.text();
    expect({ status: res.status, type: res.headers.get('content-type'), cache: res.headers.get('cache-control') }).toEqual({
      status: 200,
      type: 'text/plain; charset=utf-8',
      cache: 'public, max-age=300, must-revalidate',
    });
    // Run `npm run schema:partner` after changing the SDL.
    expect(served, `${PUBLISHED} is stale`).toBe(await readFile(PUBLISHED, 'utf8'));
    const etag = res.headers.get('etag');
    expect(etag).toMatch(/^"[\w-]{43}"$/);
    const again = await fetch(`${gw.url}/schema/partner.graphql`, { headers: { 'if-none-match': etag! } });
    expect({ status: again.status, body: await again.text() }).toEqual({ status: 304, body: '' });
  });

  it("shows only what a partner may call, each field's category and the descriptions it needs", async () => {
    const sdl = await readFile(PUBLISHED, 'utf8');
    for (const other of ['auditEvents', 'auditIntegrity', 'partnerReport', 'myConsents', 'myAccessLog', 'approveConsentRequest', 'revokeConsent', 'createAuditCheckpoint', 'requiresRole', 'subjectAccess']) {
      expect(sdl).not.toContain(other);
    }
    for (const line of [
      'atLeast(threshold: Int!): Boolean @category(name: "score.threshold")',
      'band: ScoreBand @category(name: "score.band")',
      'value: Int @category(name: "score.value")',
      'dimensions: ScoreDimensions @category(name: "score.dimensions")',
      'factors: [ReasonCode!] @category(name: "score.factors")',
      'history(months: Int = 12): [ScorePoint!] @category(name: "score.history")',
      'identity: IdentityCheck @category(name: "identity.verified")',
      'asOf: DateTime @releasedWithAny(prefix: "score.")',
      'purpose: String! @purpose',
      'requestConsent(input: ConsentRequestInput!): ConsentRequest!',
    ]) {
      expect(sdl).toContain(line);
    }
    // Each of these fields is preceded by its description.
    for (const field of ['band', 'dimensions', 'asOf', 'model']) {
      expect(sdl, field).toMatch(new RegExp(`"""\\n\\s+[^\\n]+\\n\\s+"""\\n\\s+${field}: `));
    }
  });

  it('answers a partner token with the partner schema only', async () => {
    const res = await graphql(gw.url, partner, getIntrospectionQuery());
    expect(res.status).toBe(200);
    const seen = rootFields(res.body);
    expect({ query: seen.query, mutation: seen.mutation }).toEqual({
      query: ['consentRequest', 'subject', 'subjects'],
      mutation: ['requestConsent'],
    });
    expect(seen.types).not.toContain('AuditEvent');
    // __type cannot reach around it either.
    const probe = await graphql(gw.url, partner, '{ __type(name: "AuditEvent") { name } }');
    expect(probe.body).toEqual({ data: { __type: null } });
  });

  it("answers subject, compliance and admin tokens with their own part, and a token of several roles with all of theirs", async () => {
    const ask = async (roles: ('subject' | 'compliance' | 'admin')[]) => {
      const token = await gw.services.tokens.issueRoleToken('someone', roles, 900);
      return graphql(gw.url, token, getIntrospectionQuery());
    };
    const subject = rootFields((await ask(['subject'])).body);
    expect({ query: subject.query, mutation: subject.mutation }).toEqual({
      query: ['consentRequest', 'myAccessLog', 'myConsents', 'myRecord'],
      mutation: ['approveConsentRequest', 'declineConsentRequest', 'revokeConsent'],
    });
    const officer = rootFields((await ask(['compliance'])).body);
    expect({ query: officer.query, mutation: officer.mutation }).toEqual({
      query: ['auditCheckpoints', 'auditEvents', 'auditIntegrity', 'consents', 'partnerReport'],
      mutation: ['createAuditCheckpoint'],
    });
    expect(officer.types).not.toContain('ScoreSummary');
    const both = rootFields((await ask(['subject', 'compliance'])).body);
    expect(both.query).toEqual(['auditCheckpoints', 'auditEvents', 'auditIntegrity', 'consentRequest', 'consents', 'myAccessLog', 'myConsents', 'myRecord', 'partnerReport']);
    // Operators have mutations only, and a schema needs a query type: nothing to show.
    const admin = await ask(['admin']);
    expect(admin.body.errors?.map((e: any) => e.extensions.code)).toEqual(['FORBIDDEN']);
  });

  it('refuses introspection without a token (401) and mixed with data', async () => {
    const anonymous = await graphql(gw.url, undefined, getIntrospectionQuery());
    expect(anonymous.status).toBe(401);
    const mixed = await graphql(gw.url, partner, '{ __schema { queryType { name } } subject(id: "x", purpose: "deposit_waiver") { id } }');
    expect(mixed.body.errors?.map((e: any) => e.extensions.code)).toEqual(['BAD_USER_INPUT']);
    expect(mixed.body.data).toBeUndefined();
  });
});

describe('introspection in production', () => {
  let gw: TestGateway;
  afterAll(() => gw?.close());

  it('is refused, while the partner schema is still published', async () => {
    gw = await startGateway('pglite', { env: { NODE_ENV: 'production' } });
    const token = await partnerToken(gw.url, await createTestPartner(gw.services));
    const res = await graphql(gw.url, token, '{ __schema { queryType { name } } }');
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(res.body.errors?.[0]?.message).toMatch(/introspection is not allowed/i);
    const published = await fetch(`${gw.url}/schema/partner.graphql`);
    expect({ status: published.status, same: (await published.text()) === (await readFile(PUBLISHED, 'utf8')) }).toEqual({ status: 200, same: true });
  });
});

describe('purposes are validated before anything is decided', () => {
  let gw: TestGateway;
  let token: string;
  const VALID = ['credit_underwriting', 'deposit_waiver', 'fraud_prevention', 'identity_verification', 'insurance_underwriting', 'post_pay', 'tenant_screening'];
  const auditRows = async () => (await gw.services.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events'))[0]!.n;

  beforeAll(async () => {
    gw = await startGateway('pglite');
    const partner = await createTestPartner(gw.services, { scopes: ['score.threshold'], purposes: ['deposit_waiver'] });
    await seedSubjects(gw.services, [['alice', 700]]);
    await consentTo(gw.services, 'alice', partner.id, 'deposit_waiver', ['score.threshold']);
    token = await partnerToken(gw.url, partner);
  });
  afterAll(() => gw?.close());

  it('refuses an unknown purpose in a literal with 400 BAD_USER_INPUT, the valid purposes, and no audit event', async () => {
    const before = await auditRows();
    const res = await graphql(gw.url, token, '{ subject(id: "alice", purpose: "deposit_waver") { score { atLeast(threshold: 650) } } }');
    expect(res).toEqual({
      status: 400,
      body: {
        errors: [
          {
            message: `Unknown purpose "deposit_waver" in Query.subject(purpose:). Valid purposes: ${VALID.join(', ')}.`,
            locations: [{ line: 1, column: 33 }],
            extensions: { code: 'BAD_USER_INPUT', argument: 'Query.subject(purpose:)', validPurposes: VALID },
          },
        ],
      },
    });
    expect(await auditRows()).toBe(before);
  });

  it('refuses an unknown purpose sent as a String! variable the same way, and in a consent request input', async () => {
    const before = await auditRows();
    const read = await graphql(gw.url, token, 'query($id: ID!, $purpose: String!) { subjects(ids: [$id], purpose: $purpose) { id } }', { id: 'alice', purpose: 'Deposit_Waiver' });
    expect(read.status).toBe(400);
    expect(read.body.errors).toEqual([
      {
        message: `Unknown purpose "Deposit_Waiver" in $purpose. Valid purposes: ${VALID.join(', ')}.`,
        extensions: { code: 'BAD_USER_INPUT', argument: '$purpose', validPurposes: VALID },
      },
    ]);
    const ask = await graphql(gw.url, token, 'mutation($input: ConsentRequestInput!) { requestConsent(input: $input) { id } }', {
      input: { subjectId: 'alice', purpose: 'marketing', categories: ['score.threshold'], durationDays: 30 },
    });
    expect({ status: ask.status, code: ask.body.errors?.[0]?.extensions?.code, argument: ask.body.errors?.[0]?.extensions?.argument }).toEqual({
      status: 400,
      code: 'BAD_USER_INPUT',
      argument: '$input.purpose',
    });
    const literal = await graphql(gw.url, token, 'mutation { requestConsent(input: {subjectId: "alice", purpose: "marketing", categories: ["score.threshold"], durationDays: 30}) { id } }');
    expect({ status: literal.status, argument: literal.body.errors?.[0]?.extensions?.argument }).toEqual({ status: 400, argument: 'ConsentRequestInput.purpose' });
    expect(await auditRows()).toBe(before);
  });

  it('still answers a known purpose the partner is not approved for with PURPOSE_NOT_ALLOWED, and a valid one with data', async () => {
    const notApproved = await graphql(gw.url, token, '{ subject(id: "alice", purpose: "post_pay") { id } }');
    expect(notApproved.body.errors?.[0]?.extensions?.code).toBe('PURPOSE_NOT_ALLOWED');
    const ok = await graphql(gw.url, token, 'query($p: String!) { subject(id: "alice", purpose: $p) { score { atLeast(threshold: 650) } } }', { p: 'deposit_waiver' });
    expect(ok).toEqual({ status: 200, body: { data: { subject: { score: { atLeast: true } } } } });
  });
});
