import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allowConnections } from '../../fixtures/postgres.js';
import { createTestPartner, graphql, startGateway, type TestGateway } from '../../fixtures/gateway.js';
import { consentTo, seedSubjects } from '../../fixtures/subjects.js';

/** One status rule: store unavailable is 503 with Retry-After for queries, mutations and pages alike. */
describe('every operation while PostgreSQL refuses connections', () => {
  let gw: TestGateway;
  let subjectToken: string;
  let consentId: string;
  let dbName: string;

  beforeAll(async () => {
    gw = await startGateway('postgres');
    [{ name: dbName }] = await gw.store.db.query<{ name: string }>('SELECT current_database() AS name');
    const partner = await createTestPartner(gw.services, { purposes: ['deposit_waiver'] });
    await seedSubjects(gw.services, [['u-1', 700]]);
    consentId = (await consentTo(gw.services, 'u-1', partner.id, 'deposit_waiver', ['score.band'])).id;
    subjectToken = await gw.services.tokens.issueRoleToken('u-1', ['subject'], 900);
    await allowConnections(dbName, false);
  });
  afterAll(async () => {
    await allowConnections(dbName, true);
    await gw?.close();
  });

  it('a revocation that could not be stored is a 503 a client retries, not a 200', async () => {
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${subjectToken}` },
      body: JSON.stringify({ query: 'mutation($id: ID!) { revokeConsent(id: $id) { id status } }', variables: { id: consentId } }),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    const body = (await res.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors.map((e) => e.extensions.code)).toEqual(['SERVICE_UNAVAILABLE']);
  });

  it('a subject query is a 503 too', async () => {
    const res = await graphql(gw.url, subjectToken, '{ myConsents { id } }');
    expect(res.status).toBe(503);
    expect(res.body.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
  });

  it('the "my data" page is a readable 503 page', async () => {
    const res = await fetch(`${gw.url}/me`, { headers: { cookie: `consentry_session=${subjectToken}`, accept: 'text/html' } });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.headers.get('content-type')).toContain('text/html');
    const text = await res.text();
    expect(text).toContain('Temporarily unavailable');
    expect(text).not.toMatch(/ECONNREFUSED|does not allow|stack/i);
  });

  it('readiness says not ready, and ready again once connections are allowed', async () => {
    const down = await fetch(`${gw.url}/readyz`);
    expect(down.status).toBe(503);
    expect(((await down.json()) as { checks: { store: string } }).checks.store).not.toBe('ok');
    await allowConnections(dbName, true);
    const up = await fetch(`${gw.url}/readyz`);
    expect(await up.json()).toEqual({ status: 'ready', checks: { store: 'ok', audit: 'ok', keys: 'ok' } });
    await allowConnections(dbName, false);
  });
});
