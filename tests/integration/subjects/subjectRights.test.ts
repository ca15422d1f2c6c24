import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { exportAudit } from '../../../src/audit/auditExport.js';
import { writeCheckpoint } from '../../../src/audit/checkpoints.js';
import { consentDepsOf } from '../../../src/consent/consentDeps.js';
import { AuditUnavailableError } from '../../../src/errors.js';
import { eraseSubject } from '../../../src/subjects/eraseSubject.js';
import { RECORD_CSV_COLUMNS } from '../../../src/subjects/subjectRecord.js';
import { csrfTokenFor } from '../../../src/web/session.js';
import { seedSubject, REQUEST_CONSENT } from '../../fixtures/consentScenario.js';
import { createTestPartner, graphql, partnerToken, type TestPartner } from '../../fixtures/gateway.js';
import { STORE_KINDS } from '../../fixtures/stores.js';
import { consentTo } from '../../fixtures/subjects.js';
import { runCli, startAuditGateway, type AuditGateway } from '../audit/auditGateway.js';

vi.setConfig({ testTimeout: 180_000 });

/** No `id` in the selection: the body then says nothing of which id was asked, only what the gateway answered. */
const PARTNER_READ = `query($id: ID!) { subject(id: $id, purpose: "deposit_waiver") { score { band value } identity { verified } } }`;
const OFFICER_EVENTS = `query($filter: AuditFilter) { auditEvents(filter: $filter, first: 50) { edges { node { seq kind actor subjectId consentIds details } } } }`;

function tempFile(name: string, content: string): string {
  const path = join(tmpdir(), `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}-${name}`);
  writeFileSync(path, content);
  return path;
}

async function text(chunks: AsyncIterable<string>): Promise<string> {
  let all = '';
  for await (const c of chunks) all += c;
  return all;
}

describe.each(STORE_KINDS)('subject rights (download, erasure) on %s', (kind) => {
  let gw: AuditGateway;
  let partner: TestPartner;
  let token: string;
  afterEach(() => gw?.cleanup());

  const subjectToken = (sub: string) => gw.services.tokens.issueRoleToken(sub, ['subject'], 900);
  const officerToken = () => gw.services.tokens.issueRoleToken('officer-1', ['compliance'], 900);
  const partnerBody = async (id: string) => {
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: PARTNER_READ, variables: { id } }),
    });
    return { status: res.status, body: await res.text() };
  };
  const download = async (format: 'json' | 'csv', sub: string) => {
    const res = await fetch(`${gw.url}/me/record.${format}`, { headers: { authorization: `Bearer ${await subjectToken(sub)}` } });
    return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
  };
  const ndjsonExport = async () => text(exportAudit(gw.services.db, { format: 'ndjson', issuer: gw.services.config.issuer, now: gw.services.clock() }));

  /** alice and bob each consented to the partner and were read; a pending request waits for alice; "ghost" was asked about. */
  async function scenario(): Promise<void> {
    gw = await startAuditGateway(kind);
    partner = await createTestPartner(gw.services, { name: 'Swift Car Rental' });
    token = await partnerToken(gw.url, partner);
    await seedSubject(gw.services, 'alice', 712);
    await seedSubject(gw.services, 'bob', 580);
    await consentTo(gw.services, 'alice', partner.id, 'deposit_waiver', ['score.band']);
    await consentTo(gw.services, 'bob', partner.id, 'deposit_waiver', ['score.band', 'score.value']);
    await graphql(gw.url, token, REQUEST_CONSENT, { input: { subjectId: 'alice', purpose: 'credit_underwriting', categories: ['score.value'], durationDays: 30 } });
    for (const id of ['alice', 'bob', 'alice', 'ghost']) expect((await partnerBody(id)).status).toBe(200);
  }

  it('downloads exactly the subject’s own record, as JSON and as CSV, audited before the bytes', async () => {
    await scenario();
    const links = await graphql(gw.url, await subjectToken('alice'), '{ myRecord { json csv } }');
    expect(links.body.data.myRecord).toEqual({ json: `${gw.url}/me/record.json`, csv: `${gw.url}/me/record.csv` });

    const json = await download('json', 'alice');
    expect(json).toMatchObject({ status: 200, type: 'application/json; charset=utf-8' });
    const record = JSON.parse(json.body);
    expect(record).toMatchObject({
      format: 'consentry-subject-record',
      version: 1,
      issuer: gw.url,
      subjectId: 'alice',
      identity: { verified: true, level: 'L2', verifiedAt: '2026-01-01T00:00:00.000Z' },
      score: {
        value: 712,
        band: 'EXCELLENT',
        dimensions: { creditHistory: 80, behaviourPreferences: 70, fulfilmentCapacity: 75, identityTraits: 90, socialConnections: 60 },
        factors: [{ code: 'R01', description: 'Long, clean repayment history' }],
        history: [{ month: '2026-10', value: 712 }],
        asOf: '2026-11-01T00:00:00.000Z',
        model: 'test-model-1',
      },
    });
    expect(record.consents).toHaveLength(1);
    expect(record.consents[0]).toMatchObject({ partnerId: partner.id, purpose: 'deposit_waiver', categories: ['score.band'], status: 'ACTIVE', channel: 'cli' });
    expect(JSON.parse(Buffer.from(record.consents[0].receipt.split('.')[1], 'base64url').toString())).toMatchObject({ subject: 'alice' });
    expect(record.consentRequests).toEqual([
      expect.objectContaining({ partnerId: partner.id, purpose: 'credit_underwriting', categories: ['score.value'], status: 'PENDING', consentId: null }),
    ]);
    const denied = (a: any) => a.denied.map((d: any) => `${d.category}:${d.code}`).sort();
    const read = [partner.id, 'Swift Car Rental', 'deposit_waiver', ['score.band'], ['identity.verified:CONSENT_REQUIRED', 'score.value:CONSENT_REQUIRED']];
    expect(record.accessLog.map((a: any) => [a.partnerId, a.partnerName, a.purpose, a.released, denied(a)])).toEqual([read, read]);
    // Nobody else's data: not bob's score, consent or reads, not the ghost.
    expect(json.body).not.toMatch(/bob|ghost|\b580\b/);

    const csv = await download('csv', 'alice');
    expect(csv).toMatchObject({ status: 200, type: 'text/csv; charset=utf-8' });
    const lines = csv.body.trimEnd().split('\r\n');
    expect(lines[0]).toBe(RECORD_CSV_COLUMNS.join(','));
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(['subject', 'identity', 'score', 'consent', 'consent_request', 'access', 'access']);
    expect(lines[6]).toContain(`access,${record.accessLog[0].seq},${record.accessLog[0].at},${partner.id},Swift Car Rental,deposit_waiver,,,,,score.band,`);
    expect(csv.body).not.toMatch(/bob|ghost|\b580\b/);

    // Each download is an audited access by the subject, under its pseudonym, committed before the response.
    const pseudonym = await gw.services.pseudonyms.forSubject(gw.services.db, 'alice');
    const exports = await gw.services.db.query<{ actor_type: string; actor_id: string; subject_id: string; details: unknown }>(
      `SELECT actor_type, actor_id, subject_id, details FROM audit_events WHERE kind = 'subject.record_exported' ORDER BY seq`,
    );
    expect(exports).toEqual([
      { actor_type: 'subject', actor_id: pseudonym, subject_id: pseudonym, details: { format: 'json', channel: 'api' } },
      { actor_type: 'subject', actor_id: pseudonym, subject_id: pseudonym, details: { format: 'csv', channel: 'api' } },
    ]);
    // A partner token is not a subject's.
    expect((await fetch(`${gw.url}/me/record.json`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(403);
  });

  it('fails closed with 503 when the download cannot be audited', async () => {
    await scenario();
    const before = await gw.services.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events`);
    const append = vi.spyOn(gw.services.auditLog, 'append').mockRejectedValue(new AuditUnavailableError(new Error('store down')));
    const res = await download('json', 'alice');
    append.mockRestore();
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body)).toEqual({ errors: [{ message: expect.any(String), extensions: { code: 'SERVICE_UNAVAILABLE' } }] });
    expect(res.body).not.toContain('712');
    expect(await gw.services.db.query(`SELECT count(*)::int AS n FROM audit_events`)).toEqual(before);
  });

  it('erasure on the page needs the signed-in subject and the form’s CSRF token', async () => {
    await scenario();
    const t = await subjectToken('alice');
    const cookie = `consentry_session=${t}`;
    const post = (csrf: string, withCookie = true) =>
      fetch(`${gw.url}/me/erase`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(withCookie ? { cookie } : {}) },
        body: new URLSearchParams({ csrf }),
      });
    const confirm = await fetch(`${gw.url}/me/erase`, { headers: { cookie, 'accept-language': 'zh-CN' } });
    expect(confirm.status).toBe(200);
    expect(await confirm.text()).toContain(`<input type="hidden" name="csrf" value="${csrfTokenFor(t)}">`);
    expect((await fetch(`${gw.url}/me/erase`, { redirect: 'manual' })).headers.get('location')).toBe('/signin?next=%2Fme%2Ferase');

    expect((await post('forged')).status).toBe(403);
    expect((await post(csrfTokenFor(t), false)).headers.get('location')).toBe('/signin?next=%2Fme%2Ferase');
    expect(await gw.services.db.query(`SELECT id FROM subjects WHERE id = 'alice'`)).toEqual([{ id: 'alice' }]);

    const done = await post(csrfTokenFor(t));
    expect({ status: done.status, location: done.headers.get('location') }).toEqual({ status: 303, location: '/me?erased=done' });
    expect(await gw.services.db.query(`SELECT id FROM subjects WHERE id = 'alice'`)).toEqual([]);
    const [event] = await gw.services.db.query<{ actor_type: string; details: Record<string, unknown> }>(`SELECT actor_type, details FROM audit_events WHERE kind = 'subject.erased'`);
    expect(event).toMatchObject({ actor_type: 'subject', details: { channel: 'page', consentsRevoked: 1, keyDestroyed: true } });
    // A second erasure finds nothing left to erase, and says so.
    expect((await post(csrfTokenFor(t))).headers.get('location')).toBe('/me?erased=nothing');
  });

  it('erases a subject: data gone, consents revoked, partner sees a stranger, officers see a pseudonym, the chain verifies', async () => {
    await scenario();
    const { services } = gw;
    const deps = { db: services.db, keys: services.keys, clock: services.clock, issuer: services.config.issuer };
    await writeCheckpoint(deps);
    const exportBefore = tempFile('before.ndjson', await ndjsonExport());
    const pseudonym = await services.pseudonyms.forSubject(services.db, 'alice');
    const consentId = (await services.db.query<{ id: string }>(`SELECT id FROM consents WHERE subject_id = 'alice'`))[0]!.id;
    const eventsBefore = await services.db.query<{ seq: string }>(`SELECT seq::text AS seq FROM audit_events WHERE subject_id = $1`, [pseudonym]);
    expect(eventsBefore.length).toBe(4); // consent.granted, consent.requested, two reads
    expect(await services.db.query(`SELECT seq FROM audit_events WHERE subject_id = 'alice' OR actor_id = 'alice'`)).toEqual([]);
    const aliceBefore = await partnerBody('alice');
    expect(aliceBefore.body).toContain('EXCELLENT');

    const erasure = await eraseSubject(consentDepsOf(services), { subjectId: 'alice', reason: 'account closed', actor: { type: 'operator', id: 'cli:ops' }, channel: 'cli' });
    expect(erasure).toMatchObject({
      pseudonym,
      consentsRevoked: 1,
      scoreDeleted: true,
      identityDeleted: true,
      consentsPseudonymised: 1,
      requestsPseudonymised: 1,
      linkableEventsHidden: 0,
      keyDestroyed: true,
    });

    // Nothing of alice is left in any table; bob is untouched.
    for (const table of ['subjects', 'score_summaries', 'consents', 'consent_requests', 'subject_keys', 'audit_events']) {
      const rows = JSON.stringify(await services.db.query(`SELECT * FROM ${table}`));
      expect(rows, table).not.toContain('alice');
    }
    expect((await services.db.query(`SELECT id FROM subjects ORDER BY id`)).map((r: any) => r.id)).toEqual(['bob']);
    const [consent] = await services.db.query<{ subject_id: string; receipt: string; revoked_at: Date | null }>('SELECT subject_id, receipt, revoked_at FROM consents WHERE id = $1', [consentId]);
    expect(consent).toMatchObject({ subject_id: pseudonym, receipt: '' });
    expect(consent!.revoked_at).not.toBeNull();

    // The partner now gets, byte for byte, what it gets for an id the gateway never heard of.
    const [aliceAfter, ghost] = [await partnerBody('alice'), await partnerBody('ghost')];
    expect(aliceAfter).toEqual(ghost);
    expect(JSON.parse(ghost.body).errors.map((e: any) => e.extensions.code)).toEqual(['CONSENT_REQUIRED', 'CONSENT_REQUIRED', 'CONSENT_REQUIRED']);

    // Officers still count and inspect every event, under the pseudonym nobody can link to alice any more.
    const officer = await officerToken();
    const officerView = await graphql(gw.url, officer, OFFICER_EVENTS, { filter: { subjectId: pseudonym } });
    expect(officerView.body.errors).toBeUndefined();
    const seen = officerView.body.data.auditEvents.edges.map((e: any) => e.node);
    expect(seen.map((e: any) => e.kind)).toEqual(['consent.granted', 'consent.requested', 'access', 'access', 'access', 'consent.revoked', 'subject.erased']);
    expect(seen.at(-2)).toMatchObject({ kind: 'consent.revoked', actor: 'operator:cli:ops', consentIds: [consentId] });
    expect(seen.at(-1)).toMatchObject({ kind: 'subject.erased', actor: 'operator:cli:ops', subjectId: pseudonym });
    expect(JSON.parse(seen.at(-1).details)).toEqual({
      channel: 'cli', reason: 'account closed', consentsRevoked: 1, scoreDeleted: true, identityDeleted: true,
      consentsPseudonymised: 1, requestsPseudonymised: 1, linkableEventsHidden: 0, keyDestroyed: true,
    });
    expect(await services.pseudonyms.forSubject(services.db, 'alice')).not.toBe(pseudonym);

    // alice's own views no longer find those events.
    const mine = await graphql(gw.url, await subjectToken('alice'), '{ myAccessLog(first: 50) { edges { node { seq } } } myConsents(includeInactive: true) { id } }');
    expect(mine.body.data.myConsents).toEqual([]);
    expect(mine.body.data.myAccessLog.edges.map((e: any) => e.node.seq)).toEqual([expect.any(String)]); // only the read made after the erasure, under the gateway-wide pseudonym

    // The chain verifies online and offline, on exports from before and after the erasure.
    await writeCheckpoint(deps);
    const exportAfter = tempFile('after.ndjson', await ndjsonExport());
    const jwks = tempFile('jwks.json', JSON.stringify(await (await fetch(`${gw.url}/.well-known/jwks.json`)).json()));
    await gw.stop();
    const online = await runCli(['audit', 'verify', '--json'], gw.cliEnv);
    expect(online.code, online.stderr).toBe(0);
    expect(JSON.parse(online.stdout)).toMatchObject({ ok: true });
    for (const file of [exportBefore, exportAfter]) {
      const offline = await runCli(['audit', 'verify', '--file', file, '--jwks', jwks, '--json'], {});
      expect(offline.code, offline.stderr).toBe(0);
      expect(JSON.parse(offline.stdout)).toMatchObject({ ok: true, checkpointsChecked: file === exportBefore ? 1 : 2 });
    }
  });
});
