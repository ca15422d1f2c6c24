import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../src/audit/auditLog.js';
import { verifyStoredChain } from '../../../src/audit/verifyStoredChain.js';
import { consentDepsOf } from '../../../src/consent/consentDeps.js';
import type { Services } from '../../../src/services.js';
import { insertConsent } from '../../../src/store/consents.js';
import { migrate } from '../../../src/store/database.js';
import { insertPartner } from '../../../src/store/partners.js';
import { upsertScoreSummaries } from '../../../src/store/scoreSummaries.js';
import { eraseSubject } from '../../../src/subjects/eraseSubject.js';
import { graphql, listenGateway } from '../../fixtures/gateway.js';
import { openTestStore, revertThrough, STORE_KINDS, type TestStore } from '../../fixtures/stores.js';
import { summaryFor } from '../../fixtures/subjects.js';

const EVENTS = `query($filter: AuditFilter) { auditEvents(filter: $filter, first: 50) { edges { node { seq kind subjectId } } } }`;
const MY_LOG = `{ myAccessLog(first: 50) { edges { node { seq partnerId } } } }`;

/**
 * A database that had events before pseudonyms: the migration keeps them as
 * they are (rewriting them would break the chain), records where they end,
 * gives known subjects keys, and an erasure hides the ones still naming the
 * subject by id.
 */
describe.each(STORE_KINDS)('events written before pseudonyms on %s', (kind) => {
  let store: TestStore;
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    await store?.cleanup();
  });

  it('stay verifiable, are found by the subject’s views until erasure, then hidden from officers by default', async () => {
    store = await openTestStore(kind);
    const { db } = store;
    // Back to before pseudonyms (the migrations that came after them go first).
    const reverted = await revertThrough(db, 'SubjectPseudonyms1764000000060');
    // What an older gateway wrote: subject rows, a consent, and events naming carol and dave by id.
    await insertPartner(db, { id: 'p_old', name: 'Old Partner', industry: 'bank', scopes: ['score.band'], purposes: ['deposit_waiver'], jwks: { keys: [] }, redirectUris: [] }, new Date());
    await upsertScoreSummaries(db, [summaryFor('carol', 700), summaryFor('dave', 640)]);
    const consent = { subjectId: 'carol', partnerId: 'p_old', purpose: 'deposit_waiver', categories: ['score.band'], channel: 'cli', requestId: null, policyVersion: 'old', receipt: 'x' };
    await insertConsent(db, { ...consent, id: randomUUID(), grantedAt: new Date(), expiresAt: new Date(Date.now() + 86_400_000) });
    const legacy = new AuditLog(db);
    const at = new Date();
    await legacy.append([
      { kind: 'consent.granted', at, actorType: 'subject', actorId: 'carol', partnerId: 'p_old', subjectId: 'carol', purpose: 'deposit_waiver' },
      { kind: 'access', at, actorType: 'partner', actorId: 'p_old', partnerId: 'p_old', subjectId: 'carol', purpose: 'deposit_waiver', released: ['score.band'] },
      { kind: 'access', at, actorType: 'partner', actorId: 'p_old', partnerId: 'p_old', subjectId: 'dave', purpose: 'deposit_waiver', denied: [{ category: 'score.band', code: 'CONSENT_REQUIRED' }] },
    ]);

    expect(reverted.slice(0, 4)).toEqual(['SubjectPseudonyms1764000000060', 'AccessAppendCheck1764000000070', 'FactChanges1764000000080', 'AuditHashUnindexed1764000000090']);
    expect(await migrate(db)).toEqual(reverted);
    expect((await db.query<{ subject_id: string }>('SELECT subject_id FROM subject_keys ORDER BY subject_id')).map((r) => r.subject_id)).toEqual(['carol', 'dave']);
    expect(await db.query(`SELECT value FROM gateway_settings WHERE name = 'plain_subject_ids_through_seq'`)).toEqual([{ value: '3' }]);

    const gw = await listenGateway(store.env, { db });
    close = () => gw.server.close();
    const services: Services = gw.services;
    const officer = await services.tokens.issueRoleToken('officer-1', ['compliance'], 900);
    const carol = await services.tokens.issueRoleToken('carol', ['subject'], 900);
    const seqs = (body: any, field: string) => body.data[field].edges.map((e: any) => e.node.seq);

    // Before erasure carol finds her old read by id; officers see it as it was written.
    expect(seqs((await graphql(gw.url, carol, MY_LOG)).body, 'myAccessLog')).toEqual(['2']);
    expect(seqs((await graphql(gw.url, officer, EVENTS, { filter: { subjectId: 'carol' } })).body, 'auditEvents')).toEqual(['1', '2']);

    const erasure = await eraseSubject(consentDepsOf(services), { subjectId: 'carol', reason: 'account closed', actor: { type: 'operator', id: 'ops' }, channel: 'cli' });
    expect(erasure).toMatchObject({ consentsRevoked: 1, linkableEventsHidden: 2, keyDestroyed: true, scoreDeleted: true });

    // The rows are unchanged (the chain needs them) but hidden from default views and from carol's own.
    expect(seqs((await graphql(gw.url, officer, EVENTS, { filter: { subjectId: 'carol' } })).body, 'auditEvents')).toEqual([]);
    expect(seqs((await graphql(gw.url, officer, EVENTS, { filter: { subjectId: 'carol', includeErased: true } })).body, 'auditEvents')).toEqual(['1', '2']);
    expect(seqs((await graphql(gw.url, officer, EVENTS, { filter: { kind: 'access' } })).body, 'auditEvents')).toEqual(['3']);
    expect(seqs((await graphql(gw.url, carol, MY_LOG)).body, 'myAccessLog')).toEqual([]);
    // dave, not erased, is untouched.
    expect(seqs((await graphql(gw.url, officer, EVENTS, { filter: { subjectId: 'dave' } })).body, 'auditEvents')).toEqual(['3']);

    const erased = await db.query<{ details: Record<string, unknown>; subject_id: string }>(`SELECT details, subject_id FROM audit_events WHERE kind = 'subject.erased'`);
    expect(erased).toEqual([{ subject_id: erasure.pseudonym, details: expect.objectContaining({ linkableEventsHidden: 2, reason: 'account closed' }) }]);
    expect(await verifyStoredChain(services)).toMatchObject({ ok: true, eventsChecked: 5 });
  });
});
