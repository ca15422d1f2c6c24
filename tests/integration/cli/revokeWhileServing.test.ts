import { describe, expect, it } from 'vitest';
import { createCliStore, runCli } from '../../fixtures/cli.js';
import { STORE_KINDS } from '../../fixtures/stores.js';
import { partnerRead, seedSubject } from '../../fixtures/consentScenario.js';
import { createTestPartner, listenGateway, partnerToken } from '../../fixtures/gateway.js';
import { consentTo } from '../../fixtures/subjects.js';

/**
 * The operator's commands against a gateway that is serving: what `partner
 * show` and `subject show` report comes from what the gateway recorded, and a
 * revocation from the CLI stops the partner's very next read. On the embedded
 * engine the gateway (this process) owns the data directory and the CLI reaches
 * it through the gateway's socket.
 */
describe('consentry against a serving gateway', () => {
  it.each(STORE_KINDS)('shows the partner’s token and reads, and a CLI revocation stops its next read, on %s', async (kind) => {
    const store = await createCliStore(kind);
    const { url, services, server } = await listenGateway(store.env);
    try {
      const partner = await createTestPartner(services, { scopes: ['score.threshold', 'score.band'], purposes: ['deposit_waiver'] });
      await seedSubject(services, 's-2001', 702);
      const consent = await consentTo(services, 's-2001', partner.id, 'deposit_waiver', ['score.band']);
      const before = new Date();
      const token = await partnerToken(url, partner, 'score.band');

      // The read asks for band, value and identity; only the band is consented to and in scope.
      expect(await partnerRead(url, token, 's-2001')).toMatchObject({
        status: 200,
        data: { score: { band: 'EXCELLENT', value: null } },
        denied: { 'score.value': 'INSUFFICIENT_SCOPE' },
      });

      const env = { ...store.env, CONSENTRY_ISSUER: url };
      const shown = await runCli(['partner', 'show', partner.id, '--json'], env);
      expect(shown).toMatchObject({ code: 0, stderr: '' });
      const { lastToken, lastDay } = JSON.parse(shown.stdout);
      expect(lastToken).toEqual({ issuedAt: expect.any(String), expiresAt: expect.any(String), scopes: ['score.band'], jti: expect.any(String) });
      expect(Date.parse(lastToken.issuedAt)).toBeGreaterThanOrEqual(Math.floor(before.getTime() / 1000) * 1000);
      expect(Date.parse(lastToken.expiresAt) - Date.parse(lastToken.issuedAt)).toBe(15 * 60_000);
      expect(lastDay).toMatchObject({ requests: 1, accessEvents: 1, distinctSubjects: 1, releasedEvents: 1, deniedEvents: 1 });

      const revoked = await runCli(['consent', 'revoke', consent.id, '--json'], env);
      expect(revoked).toMatchObject({ code: 0, stderr: '' });
      expect(JSON.parse(revoked.stdout)).toMatchObject({ id: consent.id, status: 'REVOKED' });

      // The gateway keeps running; the revocation is in force for the next request.
      const after = await partnerRead(url, token, 's-2001');
      expect(after.data).toEqual({ id: 's-2001', score: { band: null, value: null }, identity: null });
      expect(after.denied).toMatchObject({ 'score.band': 'CONSENT_REQUIRED' });

      const subject = await runCli(['subject', 'show', 's-2001', '--json'], env);
      expect(JSON.parse(subject.stdout)).toMatchObject({
        consents: { active: 0, revoked: 1, expired: 0 },
        access: { last: { partnerId: partner.id, purpose: 'deposit_waiver' }, lastDay: 2 },
      });
    } finally {
      await server.close();
      await services.db.close();
      await store.cleanup();
    }
  }, 180_000);
});
