import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditLog } from '../../src/audit/auditLog.js';
import { revokeConsent } from '../../src/consent/revokeConsent.js';
import { changePartner } from '../../src/partners/partnerAdmin.js';
import { eraseSubject } from '../../src/subjects/eraseSubject.js';
import { upsertScoreSummaries } from '../../src/store/scoreSummaries.js';
import { STORE_KINDS } from '../fixtures/stores.js';
import { consentTo, seedSubjects, summaryFor } from '../fixtures/subjects.js';
import { createTestPartner, graphql, partnerToken, startGateway, type TestGateway, type TestPartner } from '../fixtures/gateway.js';

const BAND = (id: string) => `{ subject(id: "${id}", purpose: "credit_underwriting") { score { band value } } }`;

/**
 * Decision facts are served from the process's cache; the checked audit
 * append is what keeps that safe. These tests change the facts at the worst
 * moment: after the request has read and decided, before its events are placed.
 */
describe.each(STORE_KINDS)('decisions from cached facts on %s', (kind) => {
  let gw: TestGateway;
  let lender: TestPartner;
  let token: string;

  beforeAll(async () => {
    gw = await startGateway(kind);
    lender = await createTestPartner(gw.services, { purposes: ['credit_underwriting'] });
    await seedSubjects(gw.services, [['s-1', 700], ['s-2', 610], ['s-3', 560], ['s-4', 720], ['s-6', 640]]);
    token = await partnerToken(gw.url, lender);
  });
  afterAll(() => gw?.close());

  const deps = () => ({ ...gw.services, issuer: gw.services.config.issuer });

  /** Runs `between` once, inside the next request, after its decision and before its audit append. */
  function beforeNextAppend(between: () => Promise<void>): void {
    const log = gw.services.auditLog;
    const append = log.appendDecisions.bind(log);
    log.appendDecisions = (async (...args: Parameters<AuditLog['appendDecisions']>) => {
      log.appendDecisions = append;
      await between();
      return append(...args);
    }) as AuditLog['appendDecisions'];
  }

  /** The subject's access events (the log names it by pseudonym). */
  async function accessEventsOf(subjectId: string) {
    const pseudonym = (await gw.services.pseudonyms.lookup(gw.services.db, [subjectId])).get(subjectId);
    return gw.services.db.query<{ released: string[]; denied: { code: string }[] }>(
      `SELECT released, denied FROM audit_events WHERE kind = 'access' AND subject_id = $1 ORDER BY seq`,
      [pseudonym],
    );
  }

  it('does not release a consent revoked between the fact read and the audit append, and records the denial instead', async () => {
    const consent = await consentTo(gw.services, 's-1', lender.id, 'credit_underwriting', ['score.band', 'score.value']);
    expect((await graphql(gw.url, token, BAND('s-1'))).body.data).toEqual({ subject: { score: { band: 'EXCELLENT', value: 700 } } });

    beforeNextAppend(async () => {
      await revokeConsent(deps(), { consentId: consent.id, actor: { type: 'operator', id: 'test' }, channel: 'cli' });
    });
    const res = await graphql(gw.url, token, BAND('s-1'));
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ subject: { score: { band: null, value: null } } });
    expect(res.body.errors!.map((e: { extensions: { code: string } }) => e.extensions.code)).toEqual(['CONSENT_REQUIRED', 'CONSENT_REQUIRED']);
    // Two reads of s-1 recorded: the release before the revocation, then the denial; nothing for the stale decision.
    const events = await accessEventsOf('s-1');
    expect(events.map((e) => e.released)).toEqual([['score.band', 'score.value'], []]);
    expect(events[1]!.denied.map((d) => d.code)).toEqual(['CONSENT_REQUIRED', 'CONSENT_REQUIRED']);
  });

  it('does not release a consent revoked by a statement straight to the database, from another program, at the worst moment', async () => {
    const consent = await consentTo(gw.services, 's-6', lender.id, 'credit_underwriting', ['score.band']);
    // Read, decided and confirmed: from here on the cached facts take the append's fast path.
    for (let i = 0; i < 2; i++) expect((await graphql(gw.url, token, BAND('s-6'))).body.data.subject.score.band).toBe('GOOD');
    beforeNextAppend(async () => {
      await gw.services.db.query('UPDATE consents SET revoked_at = now() WHERE id = $1', [consent.id]);
    });
    const res = await graphql(gw.url, token, BAND('s-6'));
    expect(res.body.data).toEqual({ subject: { score: { band: null, value: null } } });
    expect((await accessEventsOf('s-6')).map((e) => e.released)).toEqual([['score.band'], ['score.band'], []]);
  });

  it('releases a consent granted after the facts were cached, on the next request', async () => {
    expect((await graphql(gw.url, token, BAND('s-2'))).body.data).toEqual({ subject: { score: { band: null, value: null } } });
    await consentTo(gw.services, 's-2', lender.id, 'credit_underwriting', ['score.band']);
    expect((await graphql(gw.url, token, BAND('s-2'))).body.data).toEqual({ subject: { score: { band: 'GOOD', value: null } } });
  });

  it('answers with a score imported after the subject was cached, even mid-request', async () => {
    await consentTo(gw.services, 's-3', lender.id, 'credit_underwriting', ['score.value']);
    expect((await graphql(gw.url, token, BAND('s-3'))).body.data.subject.score.value).toBe(560);
    await upsertScoreSummaries(gw.services.db, [summaryFor('s-3', 640)]);
    expect((await graphql(gw.url, token, BAND('s-3'))).body.data.subject.score.value).toBe(640);
    beforeNextAppend(() => upsertScoreSummaries(gw.services.db, [summaryFor('s-3', 655)]));
    expect((await graphql(gw.url, token, BAND('s-3'))).body.data.subject.score.value).toBe(655);
  });

  it('refuses a partner suspended between the fact read and the audit append', async () => {
    const other = await createTestPartner(gw.services, { purposes: ['credit_underwriting'] });
    await consentTo(gw.services, 's-4', other.id, 'credit_underwriting', ['score.band']);
    const otherToken = await partnerToken(gw.url, other);
    expect((await graphql(gw.url, otherToken, BAND('s-4'))).body.data).toEqual({ subject: { score: { band: 'EXCELLENT', value: null } } });
    beforeNextAppend(async () => {
      await changePartner(gw.services, other.id, { status: 'suspended' }, { type: 'operator', id: 'test' });
    });
    const res = await graphql(gw.url, otherToken, BAND('s-4'));
    expect(res.status).toBe(403);
    expect(res.body.data).toBeUndefined();
    expect(res.body.errors![0]!.extensions.code).toBe('PARTNER_SUSPENDED');
  });

  it('names an erased subject by the gateway-wide pseudonym at once, though its facts were cached under its own key', async () => {
    await seedSubjects(gw.services, [['s-5', 650]]);
    const lastAccessSubject = async () =>
      (await gw.services.db.query<{ subject_id: string }>(`SELECT subject_id FROM audit_events WHERE kind = 'access' ORDER BY seq DESC LIMIT 1`))[0]!.subject_id;
    const before = await graphql(gw.url, token, BAND('s-5'));
    expect(await lastAccessSubject()).toMatch(/^sp_/);
    await eraseSubject(deps(), { subjectId: 's-5', reason: 'account closed', actor: { type: 'operator', id: 'test' }, channel: 'cli' });
    const after = await graphql(gw.url, token, BAND('s-5'));
    expect(await lastAccessSubject()).toBe(gw.services.pseudonyms.gatewayPseudonym('s-5'));
    expect(after.body).toEqual(before.body);
  });

  it('serves steady traffic from the cache: one statement per request, the checked append', async () => {
    await graphql(gw.url, token, BAND('s-2'));
    const before = gw.services.db.roundTrips;
    for (let i = 0; i < 5; i++) expect((await graphql(gw.url, token, BAND('s-2'))).status).toBe(200);
    expect(gw.services.db.roundTrips - before).toBe(5);
  });
});
