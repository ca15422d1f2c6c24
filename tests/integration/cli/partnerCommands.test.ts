import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { findPartner } from '../../../src/store/partners.js';
import { createCliStore, runCli } from '../../fixtures/cli.js';
import { STORE_KINDS } from '../../fixtures/stores.js';

async function publicJwk(kid: string): Promise<JWK> {
  const { publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
}

describe('consentry partner create / update', () => {
  it.concurrent.each(STORE_KINDS)('registers and changes a partner, auditing each change, on %s', async (kind) => {
    const store = await createCliStore(kind);
    const dir = await mkdtemp(join(tmpdir(), 'consentry-partner-'));
    try {
      const [first, second] = [await publicJwk('k1'), await publicJwk('k2')];
      await writeFile(join(dir, 'keys.json'), JSON.stringify({ keys: [first] }));
      await writeFile(join(dir, 'rotated.json'), JSON.stringify({ keys: [first, second] }));

      const created = await runCli(
        [
          'partner', 'create', '--name', 'Acme Rentals', '--industry', 'car_rental', '--scopes', 'score.threshold',
          '--purposes', 'deposit_waiver', '--jwks', join(dir, 'keys.json'), '--contact', 'ops@acme.example',
          '--redirect-uris', 'https://acme.example/cb,http://localhost:3000/cb',
        ],
        store.env,
      );
      expect(created.stderr).toBe('');
      expect(created.code).toBe(0);
      const summary = JSON.parse(created.stdout);
      expect(summary).toEqual({
        clientId: expect.stringMatching(/^p_[0-9a-f]{16}$/),
        name: 'Acme Rentals',
        industry: 'car_rental',
        contact: 'ops@acme.example',
        scopes: ['score.threshold'],
        purposes: ['deposit_waiver'],
        redirectUris: ['https://acme.example/cb', 'http://localhost:3000/cb'],
        status: 'active',
        dpop: 'optional',
        trustedDocumentsOnly: false,
        kids: ['k1'],
      });
      const id: string = summary.clientId;

      const suspended = await runCli(['partner', 'update', id, '--suspend', '--json'], store.env);
      expect(suspended.code).toBe(0);
      expect(JSON.parse(suspended.stdout)).toMatchObject({ status: 'suspended', changed: { status: { from: 'active', to: 'suspended' } } });

      const widened = await runCli(['partner', 'update', id, '--activate', '--scopes', 'score.threshold,score.band', '--jwks', join(dir, 'rotated.json'), '--dpop', 'required'], store.env);
      expect(widened).toMatchObject({ code: 0, stdout: `Updated ${id}: scopes, kids, status, dpop\n`, stderr: '' });
      const badMode = await runCli(['partner', 'update', id, '--dpop', 'sometimes'], store.env);
      expect(badMode.code).not.toBe(0);
      expect(badMode.stderr).toContain("Allowed choices are optional, required.");

      await store.withDb(async (db) => {
        expect(await findPartner(db, id)).toMatchObject({
          status: 'active',
          scopes: ['score.threshold', 'score.band'],
          jwks: { keys: [first, second] },
          dpop: 'required',
        });
        const events = await db.query<{ actor_type: string; actor_id: string; details: Record<string, unknown> }>(
          `SELECT actor_type, actor_id, details FROM audit_events WHERE kind = 'partner.changed' AND partner_id = $1 ORDER BY seq`,
          [id],
        );
        expect(events.map((e) => e.actor_type)).toEqual(['operator', 'operator', 'operator']);
        expect(events.every((e) => e.actor_id.startsWith('cli'))).toBe(true);
        expect(events.map((e) => e.details)).toEqual([
          {
            change: 'registered',
            name: 'Acme Rentals',
            industry: 'car_rental',
            scopes: ['score.threshold'],
            purposes: ['deposit_waiver'],
            redirectUris: ['https://acme.example/cb', 'http://localhost:3000/cb'],
            dpop: 'optional',
            kids: ['k1'],
          },
          { change: 'updated', changes: { status: { from: 'active', to: 'suspended' } } },
          {
            change: 'updated',
            changes: {
              status: { from: 'suspended', to: 'active' },
              scopes: { from: ['score.threshold'], to: ['score.threshold', 'score.band'] },
              kids: { from: ['k1'], to: ['k1', 'k2'] },
              dpop: { from: 'optional', to: 'required' },
            },
          },
        ]);
        // Key material never reaches the audit log, only kids.
        expect(JSON.stringify(events)).not.toContain(first.x!);
      });
    } finally {
      await store.cleanup();
      await rm(dir, { recursive: true, force: true });
    }
  }, 150_000);
});
