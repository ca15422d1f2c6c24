import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { updatePartner } from '../../src/store/partners.js';
import { REQUEST_CONSENT } from '../fixtures/consentScenario.js';
import { clientAssertion, createTestPartner, graphql, partnerToken, requestToken, startGateway, type TestGateway, type TestPartner } from '../fixtures/gateway.js';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef0123456789';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

describe('the edge in production', () => {
  let gw: TestGateway;
  let partner: TestPartner;
  let token: string;

  beforeAll(async () => {
    gw = await startGateway('pglite', { env: { NODE_ENV: 'production', CONSENTRY_METRICS_TOKEN: METRICS_TOKEN } });
    partner = await createTestPartner(gw.services, { scopes: ['score.band', 'score.value'], purposes: ['deposit_waiver'] });
    token = await partnerToken(gw.url, partner);
  });
  afterAll(() => gw?.close());

  it('names no schema field in validation errors', async () => {
    const res = await graphql(gw.url, token, '{ auditEvent { edges { cursor } } }');
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).not.toMatch(/Did you mean|auditEvents/);
  });

  it('serves /metrics only with its bearer token', async () => {
    expect((await fetch(`${gw.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    const res = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('consentry_store_round_trips_total');
  });

  it('refuses an anonymous document before reading it: 401 below the body limit, 413 above it', async () => {
    const post = (query: string) =>
      fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
    const small = await post(`{ ${Array.from({ length: 10_000 }, (_, i) => `a${i}: __typename`).join(' ')} }`);
    expect(small.status).toBe(401);
    expect(((await small.json()) as any).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect((await post(`{ ${Array.from({ length: 60_000 }, (_, i) => `a${i}: __typename`).join(' ')} }`)).status).toBe(413);
  });

  it("refuses a partner's document over the token limit as QUERY_TOO_COMPLEX", async () => {
    const res = await graphql(gw.url, token, `{ ${Array.from({ length: 10_000 }, (_, i) => `a${i}: __typename`).join(' ')} }`);
    expect(res).toEqual({ status: 400, body: { errors: [{ message: 'Token limit of 5000 exceeded.', extensions: { code: 'QUERY_TOO_COMPLEX' } }] } });
  });

  it('answers a suspended partner’s requestConsent with 403', async () => {
    const suspended = await createTestPartner(gw.services, { scopes: ['score.band'], purposes: ['deposit_waiver'] });
    const suspendedToken = await partnerToken(gw.url, suspended);
    await updatePartner(gw.services.db, suspended.id, { status: 'suspended' }, new Date());
    const res = await graphql(gw.url, suspendedToken, REQUEST_CONSENT, {
      input: { subjectId: 's1', purpose: 'deposit_waiver', categories: ['score.band'], durationDays: 30 },
    });
    expect(res.status).toBe(403);
    expect(res.body.errors?.[0]?.extensions?.code).toBe('PARTNER_SUSPENDED');
  });

  describe('the token endpoint', () => {
    const form = (assertion: string, extra: Record<string, string> = {}) => ({
      grant_type: 'client_credentials',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: assertion,
      ...extra,
    });

    it('refuses a repeated scope parameter', async () => {
      const body = new URLSearchParams(form(await clientAssertion(gw.url, partner), { scope: 'score.band' }));
      body.append('scope', 'score.value');
      const res = await fetch(`${gw.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'invalid_request', error_description: 'The parameter "scope" must not be repeated.' });
    });

    it('refuses an assertion issued in the future', async () => {
      const res = await requestToken(gw.url, form(await clientAssertion(gw.url, partner, { iat: Math.floor(Date.now() / 1000) + 3600 })));
      expect(res).toEqual({ status: 401, body: { error: 'invalid_client', error_description: 'The assertion\'s "iat" claim is in the future.' } });
    });

    it('refuses a client id with a control character without touching the store', async () => {
      const res = await requestToken(gw.url, form(await clientAssertion(gw.url, partner, { iss: 'p\u0000x', sub: 'p\u0000x' })));
      expect(res).toEqual({ status: 401, body: { error: 'invalid_client', error_description: 'Unknown client.' } });
    });
  });
});

describe('/metrics without a configured token', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway('pglite');
  });
  afterAll(() => gw?.close());

  it('is not served', async () => {
    expect((await fetch(`${gw.url}/metrics`)).status).toBe(404);
  });
});
