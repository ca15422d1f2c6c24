import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { insertPartner } from '../../../src/store/partners.js';
import { createCliStore, runCli } from '../../fixtures/cli.js';
import { STORE_KINDS } from '../../fixtures/stores.js';

const ISSUER = 'http://gateway.test';

describe('consentry consent grant, receipt verify, keys rotate, token', () => {
  it.concurrent.each(STORE_KINDS)('records a consent whose receipt verifies across a key rotation on %s', async (kind) => {
    const store = await createCliStore(kind);
    const dir = await mkdtemp(join(tmpdir(), 'consentry-consent-'));
    const env = { ...store.env, CONSENTRY_ISSUER: ISSUER };
    try {
      await store.withDb((db) =>
        insertPartner(
          db,
          {
            id: 'p_rentals',
            name: 'Rentals Ltd',
            industry: 'car_rental',
            scopes: ['score.threshold', 'score.band'],
            purposes: ['deposit_waiver'],
            jwks: { keys: [{ kty: 'EC', crv: 'P-256', kid: 'k1' }] },
          },
          new Date(),
        ),
      );

      const before = Date.now();
      const granted = await runCli(
        ['consent', 'grant', '--subject', 'paper-form-17', '--partner', 'p_rentals', '--purpose', 'deposit_waiver', '--categories', 'score.threshold', '--days', '30', '--json'],
        env,
      );
      expect(granted.stderr).toBe('');
      expect(granted.code).toBe(0);
      const consent = JSON.parse(granted.stdout);
      expect(consent).toMatchObject({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        subjectId: 'paper-form-17',
        partnerId: 'p_rentals',
        purpose: 'deposit_waiver',
        categories: ['score.threshold'],
        receipt: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
      });
      const lifetime = Date.parse(consent.expiresAt) - Date.parse(consent.grantedAt);
      expect(lifetime).toBe(30 * 86_400_000);
      expect(Date.parse(consent.grantedAt)).toBeGreaterThanOrEqual(before - 1000);

      const receiptFile = join(dir, 'receipt.jws');
      await writeFile(receiptFile, `${consent.receipt}\n`);
      const verified = await runCli(['receipt', 'verify', receiptFile, '--json'], env);
      expect(verified.code).toBe(0);
      const { kid: signingKid, claims } = JSON.parse(verified.stdout);
      expect(claims).toMatchObject({ consentId: consent.id, subject: 'paper-form-17', partner: { id: 'p_rentals', name: 'Rentals Ltd' }, issuer: ISSUER });

      const rotated = await runCli(['keys', 'rotate', '--json'], env);
      expect(rotated.code).toBe(0);
      const { kid: newKid, retiredKid } = JSON.parse(rotated.stdout);
      expect(retiredKid).toBe(signingKid);
      expect(newKid).not.toBe(signingKid);

      // The retired key stays published: a receipt signed before the rotation still verifies (read from stdin here).
      const afterRotation = await runCli(['receipt', 'verify', '-'], env, { input: consent.receipt });
      expect(afterRotation.code).toBe(0);
      expect(afterRotation.stdout).toContain(`Valid receipt, signed with key ${signingKid}.`);

      const token = await runCli(['token', '--role', 'compliance', '--ttl', '2h', '--json'], env);
      expect(token.code).toBe(0);
      const minted = JSON.parse(token.stdout);
      expect(minted).toMatchObject({ sub: 'officer-1', roles: ['compliance'] });

      await store.withDb(async (db) => {
        const keys = await db.query<{ public_jwk: JWK }>('SELECT public_jwk FROM signing_keys');
        const jwks = { keys: keys.map((k) => k.public_jwk) };
        // The role token is signed with the new key.
        expect(decodeProtectedHeader(minted.token)).toMatchObject({ kid: newKid, typ: 'consentry-role+jwt' });
        const { payload } = await jwtVerify(minted.token, createLocalJWKSet(jwks), { issuer: ISSUER, audience: ISSUER });
        expect(payload).toMatchObject({ sub: 'officer-1', roles: ['compliance'] });
        expect(payload.exp! - payload.iat!).toBe(7200);
        expect(new Date(payload.exp! * 1000).toISOString()).toBe(minted.expiresAt);

        const events = await db.query<{ kind: string; actor_type: string; actor_id: string; details: Record<string, unknown>; consent_ids: string[] }>(
          `SELECT kind, actor_type, actor_id, details, consent_ids FROM audit_events WHERE kind IN ('consent.granted', 'key.rotated') ORDER BY seq`,
        );
        expect(events).toMatchObject([
          { kind: 'consent.granted', actor_type: 'operator', consent_ids: [consent.id], details: { channel: 'cli', categories: ['score.threshold'] } },
          { kind: 'key.rotated', actor_type: 'operator', details: { kid: newKid, retiredKid: signingKid } },
        ]);
        await writeFile(join(dir, 'jwks.json'), JSON.stringify(jwks));
      });

      // Offline, against a JWKS file: a receipt whose payload was altered fails with the reason.
      const [header, payload, signature] = consent.receipt.split('.');
      const altered = JSON.parse(Buffer.from(payload, 'base64url').toString());
      altered.categories = ['score.threshold', 'score.band'];
      await writeFile(receiptFile, [header, Buffer.from(JSON.stringify(altered)).toString('base64url'), signature].join('.'));
      const tampered = await runCli(['receipt', 'verify', receiptFile, '--jwks', join(dir, 'jwks.json')], {});
      expect(tampered).toMatchObject({ code: 1, stdout: '', stderr: 'invalid receipt: The receipt signature is not valid.\n' });
    } finally {
      await store.cleanup();
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
