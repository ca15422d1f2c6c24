import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { createServices, type Services } from '../../../src/services.js';
import { clientAssertion, createTestPartner, graphql, requestToken, type TestPartner } from '../../fixtures/gateway.js';
import { freePort } from '../../fixtures/ports.js';
import { createPostgresDatabase, postgresEnv } from '../../fixtures/postgres.js';
import { startServe, type ServeProcess } from '../../fixtures/serveProcess.js';
import { consentTo, seedSubjects } from '../../fixtures/subjects.js';

const ISSUER = 'http://consentry.test';
const READ = '{ subject(id: "r-1", purpose: "deposit_waiver") { score { band } } }';
const REVOKE = 'mutation($id: ID!) { revokeConsent(id: $id) { status } }';

/**
 * Two gateway processes on one PostgreSQL database: a revocation that has
 * returned on one is in force for the very next request on the other; and a
 * replica whose Redis is gone keeps serving on its per-process rate limit.
 */
describe('replicas sharing one database', () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let env: Record<string, string>;
  let services: Services;
  let partner: TestPartner;
  let replicas: ServeProcess[] = [];

  beforeAll(async () => {
    database = await createPostgresDatabase();
    env = { ...postgresEnv(database.url), CONSENTRY_ISSUER: ISSUER };
    services = await createServices(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', ...env }));
    partner = await createTestPartner(services, { purposes: ['deposit_waiver'] });
    await seedSubjects(services, [['r-1', 672]]);
    // The second replica's Redis is not there at all: nothing listens on that port.
    replicas = await Promise.all([startServe(env), startServe({ ...env, REDIS_URL: `redis://127.0.0.1:${await freePort()}` })]);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop('SIGKILL')));
    await services?.db.close();
    await database?.drop();
  });

  const tokenAt = async (url: string) => {
    const { body } = await requestToken(url, {
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await clientAssertion(ISSUER, partner),
    });
    return body.access_token as string;
  };

  it('a revocation returned by one replica is in force for the next request on the other, every time', async () => {
    const [a, b] = replicas as [ServeProcess, ServeProcess];
    const partnerToken = await tokenAt(b.url);
    const subjectToken = await services.tokens.issueRoleToken('r-1', ['subject'], 900);
    for (let round = 0; round < 5; round++) {
      const consent = await consentTo(services, 'r-1', partner.id, 'deposit_waiver', ['score.band']);
      expect((await graphql(b.url, partnerToken, READ)).body.data).toEqual({ subject: { score: { band: 'VERY_GOOD' } } });
      const revoked = await graphql(a.url, subjectToken, REVOKE, { id: consent.id });
      expect(revoked.body.data).toEqual({ revokeConsent: { status: 'REVOKED' } });
      const after = await graphql(b.url, partnerToken, READ);
      expect(after.body.data).toEqual({ subject: { score: { band: null } } });
      expect(after.body.errors?.map((e) => e.extensions.code)).toEqual(['CONSENT_REQUIRED']);
    }
  }, 120_000);

  it('a replica whose Redis is unreachable keeps serving, limited per process', async () => {
    const [, b] = replicas as [ServeProcess, ServeProcess];
    const token = await tokenAt(b.url);
    await consentTo(services, 'r-1', partner.id, 'deposit_waiver', ['score.band']);
    const started = Date.now();
    for (let i = 0; i < 5; i++) expect((await graphql(b.url, token, READ)).status).toBe(200);
    // Not a speed test: a request must not wait out a Redis that is not there (seconds each before the fix).
    expect(Date.now() - started).toBeLessThan(5000);
    expect(b.child.exitCode).toBeNull();
  }, 60_000);
});
