import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { subjectPseudonym, SUBJECT_PSEUDONYM_PREFIX } from '../../../src/audit/subjectPseudonyms.js';
import { upsertScoreSummaries } from '../../../src/store/scoreSummaries.js';
import { createCliStore, runCli, type CliStore } from '../../fixtures/cli.js';
import { STORE_KINDS } from '../../fixtures/stores.js';
import { summaryFor } from '../../fixtures/subjects.js';

async function publicJwk(kid: string): Promise<JWK> {
  const { publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { ...(await exportJWK(publicKey)), kid, use: 'sig' };
}

/** Runs a command with --json and returns its parsed result, failing loudly when it did not succeed. */
async function json(store: CliStore, args: string[]): Promise<any> {
  const r = await runCli([...args, '--json'], store.env);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  return JSON.parse(r.stdout);
}

const ISO = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

describe('consentry partner list/show, consent list/revoke, subject show/erase', () => {
  it.concurrent.each(STORE_KINDS)('lists and shows what was created and changed, and revokes as an operator, on %s', async (kind) => {
    // Beside an owner on PGlite, as an operator runs these next to the gateway (and each command skips opening the engine).
    const store = await createCliStore(kind, { heldOpen: true });
    const dir = await mkdtemp(join(tmpdir(), 'consentry-ops-'));
    try {
      await writeFile(join(dir, 'keys.json'), JSON.stringify({ keys: [await publicJwk('acme-1')] }));
      const acme = await json(store, [
        'partner', 'create', '--name', 'Acme Rentals', '--industry', 'car_rental', '--scopes', 'score.threshold',
        '--purposes', 'deposit_waiver', '--jwks', join(dir, 'keys.json'), '--redirect-uris', 'https://acme.example/cb',
      ]);
      const lender = await json(store, [
        'partner', 'create', '--name', 'Bell Lending', '--industry', 'consumer_lending', '--scopes', 'score.band,score.value',
        '--purposes', 'credit_underwriting', '--jwks', join(dir, 'keys.json'),
      ]);

      expect((await json(store, ['partner', 'list'])).partners.map((p: any) => [p.clientId, p.status])).toEqual([
        [acme.clientId, 'active'],
        [lender.clientId, 'active'],
      ]);
      expect(await json(store, ['partner', 'list', '--scope', 'score.band'])).toEqual({ partners: [lender] });
      expect(await json(store, ['partner', 'list', '--purpose', 'deposit_waiver'])).toEqual({ partners: [acme] });
      expect(await json(store, ['partner', 'show', acme.clientId])).toEqual({
        ...acme,
        keys: [{ kid: 'acme-1', kty: 'EC', crv: 'P-256', use: 'sig', algorithms: ['ES256'] }],
        createdAt: ISO,
        updatedAt: ISO,
        lastToken: null,
        lastDay: { from: ISO, to: ISO, requests: 0, accessEvents: 0, distinctSubjects: 0, releasedEvents: 0, deniedEvents: 0 },
      });

      // Updates show in the list and in show.
      await json(store, ['partner', 'update', acme.clientId, '--suspend', '--scopes', 'score.threshold,score.band']);
      expect((await json(store, ['partner', 'list', '--status', 'suspended'])).partners.map((p: any) => p.clientId)).toEqual([acme.clientId]);
      expect((await json(store, ['partner', 'list', '--scope', 'score.band', '--status', 'active'])).partners.map((p: any) => p.clientId)).toEqual([
        lender.clientId,
      ]);
      expect(await json(store, ['partner', 'show', acme.clientId])).toMatchObject({ status: 'suspended', scopes: ['score.threshold', 'score.band'] });
      const human = await runCli(['partner', 'show', acme.clientId], store.env);
      expect(human.stdout).toContain(`Acme Rentals (${acme.clientId}), car_rental: suspended`);
      expect(human.stdout).toContain('keys           acme-1 (ES256)');
      expect(human.stdout).toContain('last token     never issued');
      await json(store, ['partner', 'update', acme.clientId, '--activate']);

      // Consents: grant, list by subject and partner, revoke as the operator.
      await store.withDb((db) => upsertScoreSummaries(db, [summaryFor('s-1001', 688)]));
      const first = await json(store, ['consent', 'grant', '--subject', 's-1001', '--partner', acme.clientId, '--purpose', 'deposit_waiver', '--categories', 'score.threshold', '--days', '30']);
      const second = await json(store, ['consent', 'grant', '--subject', 's-1001', '--partner', lender.clientId, '--purpose', 'credit_underwriting', '--categories', 'score.band', '--days', '90']);
      const { receipt: _r, ...firstSummary } = first;
      expect(firstSummary).toEqual({
        id: expect.any(String), subjectId: 's-1001', partnerId: acme.clientId, purpose: 'deposit_waiver', categories: ['score.threshold'],
        status: 'ACTIVE', channel: 'cli', grantedAt: ISO, expiresAt: ISO, revokedAt: null,
      });
      expect((await json(store, ['consent', 'list', '--subject', 's-1001'])).consents.map((c: any) => c.id)).toEqual([first.id, second.id]);
      expect(await json(store, ['consent', 'list', '--partner', acme.clientId, '--active'])).toEqual({ consents: [firstSummary], nextCursor: null });
      const page = await json(store, ['consent', 'list', '--subject', 's-1001', '--limit', '1']);
      expect(page.consents.map((c: any) => c.id)).toEqual([first.id]);
      expect((await json(store, ['consent', 'list', '--subject', 's-1001', '--after', page.nextCursor])).consents.map((c: any) => c.id)).toEqual([second.id]);

      const revoked = await json(store, ['consent', 'revoke', first.id]);
      expect(revoked).toEqual({ ...firstSummary, status: 'REVOKED', revokedAt: ISO });
      expect(await json(store, ['consent', 'list', '--subject', 's-1001', '--inactive'])).toEqual({ consents: [revoked], nextCursor: null });
      expect((await json(store, ['consent', 'list', '--subject', 's-1001', '--active'])).consents.map((c: any) => c.id)).toEqual([second.id]);
      // Same rules as the subject's own revocation: a second one is refused.
      const again = await runCli(['consent', 'revoke', first.id, '--json'], store.env);
      expect(again).toMatchObject({ code: 1, stdout: '' });
      expect(JSON.parse(again.stderr)).toEqual({
        error: { code: 'BAD_USER_INPUT', message: 'This consent has already been revoked.', details: { field: 'id', status: 'REVOKED' } },
      });
      const missing = await runCli(['consent', 'revoke', '6f1c1d1e-0000-4000-8000-000000000000'], store.env);
      expect(missing).toMatchObject({ code: 1, stdout: '', stderr: 'error: No such consent.\n' });

      // Subject: metadata only, unless the values are asked for with a reason, which is audited first.
      const subject = await json(store, ['subject', 'show', 's-1001']);
      expect(subject).toEqual({
        id: 's-1001',
        inScoreStore: true,
        identity: { verified: true, level: 'L2', verifiedAt: '2025-01-15T00:00:00.000Z' },
        score: { asOf: '2026-05-31T00:00:00.000Z', model: 'consentry-test-1', updatedAt: ISO, historyMonths: 3 },
        consents: { active: 1, revoked: 1, expired: 0 },
        pendingRequests: 0,
        access: { last: null, lastDay: 0 },
      });
      const plain = await runCli(['subject', 'show', 's-1001'], store.env);
      expect(plain.stdout).not.toMatch(/688|VERY_GOOD/);
      const revealed = await json(store, ['subject', 'show', 's-1001', '--reveal-scores', 'complaint 4711']);
      const stored = summaryFor('s-1001', 688);
      expect(revealed).toEqual({
        ...subject,
        scores: { value: 688, band: 'VERY_GOOD', dimensions: stored.dimensions, factors: stored.factors, history: stored.history },
      });
      expect(await runCli(['subject', 'show', 'nobody', '--json'], store.env)).toMatchObject({ code: 1, stdout: '' });

      const pseudonym = await store.withDb(async (db) => {
        // Events name the subject by its keyed pseudonym, never by id.
        const [{ key }] = await db.query<{ key: string }>(`SELECT encode(key, 'hex') AS key FROM subject_keys WHERE subject_id = 's-1001'`);
        const pseudonym = subjectPseudonym(key, 's-1001', SUBJECT_PSEUDONYM_PREFIX);
        const events = await db.query<{ kind: string; actor_type: string; actor_id: string; subject_id: string; consent_ids: string[]; details: any }>(
          `SELECT kind, actor_type, actor_id, subject_id, consent_ids, details FROM audit_events
           WHERE kind IN ('consent.revoked', 'subject.scores_viewed') ORDER BY seq`,
        );
        expect(events).toEqual([
          { kind: 'consent.revoked', actor_type: 'operator', actor_id: expect.stringMatching(/^cli/), subject_id: pseudonym, consent_ids: [first.id], details: { categories: ['score.threshold'], channel: 'cli' } },
          {
            kind: 'subject.scores_viewed', actor_type: 'operator', actor_id: expect.stringMatching(/^cli/), subject_id: pseudonym, consent_ids: [],
            details: { channel: 'cli', reason: 'complaint 4711', fields: ['value', 'band', 'dimensions', 'factors', 'history'] },
          },
        ]);
        // The audit log never holds score values.
        expect(JSON.stringify(events)).not.toContain('688');
        return pseudonym;
      });

      // Erasure on a request received by letter: the reason is recorded, so it must not carry the id.
      const leaky = await runCli(['subject', 'erase', 's-1001', '--reason', 'letter from s-1001', '--json'], store.env);
      expect(leaky).toMatchObject({ code: 1, stdout: '' });
      expect(JSON.parse(leaky.stderr)).toMatchObject({ error: { code: 'BAD_USER_INPUT', message: 'The reason must not contain the subject id.' } });
      const erased = await json(store, ['subject', 'erase', 's-1001', '--reason', 'letter of 3 March']);
      expect(erased).toEqual({
        pseudonym,
        consentsRevoked: 1,
        scoreDeleted: true,
        identityDeleted: true,
        consentsPseudonymised: 2,
        requestsPseudonymised: 0,
        linkableEventsHidden: 0,
        keyDestroyed: true,
        erasedAt: ISO,
      });
      const text = await runCli(['subject', 'erase', 's-1001', '--reason', 'again'], store.env);
      expect(text).toMatchObject({ code: 1, stdout: '', stderr: 'error: The gateway holds nothing about this subject.\n' });
      expect(await runCli(['subject', 'show', 's-1001', '--json'], store.env)).toMatchObject({ code: 1, stdout: '' });
      await store.withDb(async (db) => {
        const [event] = await db.query<{ actor_type: string; subject_id: string; details: unknown }>(`SELECT actor_type, subject_id, details FROM audit_events WHERE kind = 'subject.erased'`);
        expect(event).toEqual({
          actor_type: 'operator',
          subject_id: pseudonym,
          details: {
            channel: 'cli', reason: 'letter of 3 March', consentsRevoked: 1, scoreDeleted: true, identityDeleted: true,
            consentsPseudonymised: 2, requestsPseudonymised: 0, linkableEventsHidden: 0, keyDestroyed: true,
          },
        });
        expect(JSON.stringify(await db.query('SELECT * FROM audit_events'))).not.toContain('s-1001');
      });
    } finally {
      await store.cleanup();
      await rm(dir, { recursive: true, force: true });
    }
  }, 480_000);
});
