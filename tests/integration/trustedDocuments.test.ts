import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RoleSchemas } from '../../src/gateway/roleSchemas.js';
import { trustedDocumentChecker } from '../../src/gateway/trustedDocumentCheck.js';
import { changePartner } from '../../src/partners/partnerAdmin.js';
import { purposeNames } from '../../src/partners/catalogue.js';
import { registerTrustedDocuments, removeTrustedDocuments, type DocumentChecker } from '../../src/partners/trustedDocuments.js';
import { createTestPartner, graphql, partnerToken, startGateway, type TestGateway, type TestPartner } from '../fixtures/gateway.js';
import { STORE_KINDS } from '../fixtures/stores.js';
import { consentTo, seedSubjects } from '../fixtures/subjects.js';

/** As GraphQL Code Generator's client preset prints it (and hashes it) in persisted-documents.json. */
const THRESHOLD = 'query Threshold($id: ID!, $purpose: String!) { subject(id: $id, purpose: $purpose) { score { atLeast(threshold: 650) } } }';
const HASH = createHash('sha256').update(THRESHOLD).digest('hex');
const VARIABLES = { id: 'alice', purpose: 'deposit_waiver' };
const operator = { type: 'operator' as const, id: 'cli:test' };

async function post(url: string, token: string, body: Record<string, unknown>) {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { data?: any; errors?: any[] } };
}

describe.each(STORE_KINDS)('trusted documents on %s', (kind) => {
  let gw: TestGateway;
  let check: DocumentChecker;
  let trusted: TestPartner;
  let trustedToken: string;
  let open: TestPartner;
  let openToken: string;
  const accessEvents = async () => (await gw.services.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events WHERE kind = 'access'`))[0]!.n;

  beforeAll(async () => {
    gw = await startGateway(kind);
    check = trustedDocumentChecker(new RoleSchemas().partner, await purposeNames(gw.services.db));
    await seedSubjects(gw.services, [['alice', 700]]);
    trusted = await createTestPartner(gw.services, { scopes: ['score.threshold', 'score.band'], purposes: ['deposit_waiver'] });
    open = await createTestPartner(gw.services, { scopes: ['score.threshold', 'score.band'], purposes: ['deposit_waiver'] });
    for (const p of [trusted, open]) await consentTo(gw.services, 'alice', p.id, 'deposit_waiver', ['score.threshold']);
    trustedToken = await partnerToken(gw.url, trusted);
    openToken = await partnerToken(gw.url, open);
  });
  afterAll(() => gw?.close());

  it('refuses to register a document that does not run against the partner schema, naming line and column', async () => {
    const bad = 'query Bad($id: ID!) {\n  subject(id: $id, purpose: "deposit_waiver") {\n    score { creditScore }\n  }\n  auditEvents { edges { cursor } }\n}';
    const badHash = createHash('sha256').update(bad).digest('hex');
    await expect(registerTrustedDocuments(gw.services, trusted.id, [{ hash: badHash, document: bad }], check, operator)).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      details: {
        documents: [
          {
            hash: badHash,
            operations: ['Bad'],
            problems: [
              'line 3, column 13: Cannot query field "creditScore" on type "ScoreSummary".',
              'line 5, column 3: Cannot query field "auditEvents" on type "Query".',
            ],
          },
        ],
      },
    });
    const typo = 'query T { subject(id: "a", purpose: "deposit_waver") { id } }';
    await expect(registerTrustedDocuments(gw.services, trusted.id, [{ hash: createHash('sha256').update(typo).digest('hex'), document: typo }], check, operator)).rejects.toThrow(
      /line 1, column 37: Unknown purpose "deposit_waver"/,
    );
  });

  it('registers a manifest, audited as partner.changed, and marks the partner trusted-documents-only', async () => {
    const first = await registerTrustedDocuments(gw.services, trusted.id, [{ hash: HASH, document: THRESHOLD }], check, operator);
    expect(first).toEqual({ added: [{ hash: HASH, operationNames: ['Threshold'] }], alreadyRegistered: [] });
    expect(await registerTrustedDocuments(gw.services, trusted.id, [{ hash: HASH, document: THRESHOLD }], check, operator)).toEqual({ added: [], alreadyRegistered: [HASH] });
    const { changed } = await changePartner(gw.services, trusted.id, { trustedDocumentsOnly: true }, operator);
    expect(changed).toEqual({ trustedDocumentsOnly: { from: false, to: true } });
    const events = await gw.services.db.query<{ details: any }>(`SELECT details FROM audit_events WHERE kind = 'partner.changed' AND partner_id = $1 ORDER BY seq`, [trusted.id]);
    expect(events.map((e) => e.details)).toEqual([
      { change: 'documents.registered', documents: [{ hash: HASH, operationNames: ['Threshold'] }] },
      { change: 'updated', changes: { trustedDocumentsOnly: { from: false, to: true } } },
    ]);
  });

  it('runs the registered operation by documentId (sha256:<hex> or bare hex) and by persistedQuery hash', async () => {
    const expected = { status: 200, body: { data: { subject: { score: { atLeast: true } } } } };
    expect(await post(gw.url, trustedToken, { documentId: `sha256:${HASH}`, variables: VARIABLES })).toEqual(expected);
    expect(await post(gw.url, trustedToken, { documentId: HASH, variables: VARIABLES, operationName: 'Threshold' })).toEqual(expected);
    expect(await post(gw.url, trustedToken, { extensions: { persistedQuery: { version: 1, sha256Hash: HASH } }, variables: VARIABLES })).toEqual(expected);
    // The registered text itself is the same operation.
    expect(await post(gw.url, trustedToken, { query: THRESHOLD, variables: VARIABLES })).toEqual(expected);
    const get = await fetch(`${gw.url}/graphql?documentId=sha256:${HASH}&variables=${encodeURIComponent(JSON.stringify(VARIABLES))}`, {
      headers: { authorization: `Bearer ${trustedToken}`, 'apollo-require-preflight': 'true' },
    });
    expect({ status: get.status, body: await get.json() }).toEqual(expected);
  });

  it('refuses anything else from that partner before any decision or audit work', async () => {
    const before = await accessEvents();
    const arbitrary = await graphql(gw.url, trustedToken, '{ subject(id: "alice", purpose: "deposit_waiver") { score { band } } }');
    expect(arbitrary).toEqual({
      status: 400,
      body: { errors: [{ message: 'This partner runs registered operations only: send the documentId of one (see GET /docs/partners).', extensions: { code: 'DOCUMENT_NOT_TRUSTED' } }] },
    });
    const unknown = 'f'.repeat(64);
    expect(await post(gw.url, trustedToken, { documentId: `sha256:${unknown}`, variables: VARIABLES })).toEqual({
      status: 400,
      body: { errors: [{ message: `No operation with id sha256:${unknown} is registered.`, extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }] },
    });
    // Apollo's automatic persisted queries cannot smuggle a document in either.
    const apq = '{ subject(id: "alice", purpose: "deposit_waiver") { id } }';
    const apqRetry = await post(gw.url, trustedToken, { query: apq, extensions: { persistedQuery: { version: 1, sha256Hash: createHash('sha256').update(apq).digest('hex') } } });
    expect({ status: apqRetry.status, code: apqRetry.body.errors?.[0]?.extensions?.code }).toEqual({ status: 400, code: 'DOCUMENT_NOT_TRUSTED' });
    // Nor does an operation that reads no subjects.
    const ask = await graphql(gw.url, trustedToken, 'mutation { requestConsent(input: {subjectId: "alice", purpose: "deposit_waiver", categories: ["score.threshold"], durationDays: 30}) { id } }');
    expect({ status: ask.status, code: ask.body.errors?.[0]?.extensions?.code }).toEqual({ status: 400, code: 'DOCUMENT_NOT_TRUSTED' });
    const introspection = await graphql(gw.url, trustedToken, '{ __schema { queryType { name } } }');
    expect(introspection.body.errors?.[0]?.extensions?.code).toBe('DOCUMENT_NOT_TRUSTED');
    const malformed = await post(gw.url, trustedToken, { documentId: 'sha1:abc' });
    expect({ status: malformed.status, code: malformed.body.errors?.[0]?.extensions?.code }).toEqual({ status: 400, code: 'PERSISTED_QUERY_NOT_FOUND' });
    expect(await accessEvents()).toBe(before);
  });

  it('leaves a partner that is not trusted-documents-only unaffected', async () => {
    const arbitrary = await graphql(gw.url, openToken, 'query($id: ID!, $purpose: String!) { subject(id: $id, purpose: $purpose) { score { atLeast(threshold: 600) } } }', VARIABLES);
    expect(arbitrary).toEqual({ status: 200, body: { data: { subject: { score: { atLeast: true } } } } });
    // A document id names a text; a partner that may send any text may name it too.
    expect(await post(gw.url, openToken, { documentId: `sha256:${HASH}`, variables: VARIABLES })).toEqual({ status: 200, body: { data: { subject: { score: { atLeast: true } } } } });
    const unknown = await post(gw.url, openToken, { documentId: 'e'.repeat(64), variables: VARIABLES });
    expect({ status: unknown.status, code: unknown.body.errors?.[0]?.extensions?.code }).toEqual({ status: 400, code: 'PERSISTED_QUERY_NOT_FOUND' });
  });

  it('applies a mode change and a removal to the very next request', async () => {
    await changePartner(gw.services, trusted.id, { trustedDocumentsOnly: false }, operator);
    const arbitrary = '{ subject(id: "alice", purpose: "deposit_waiver") { score { atLeast(threshold: 600) } } }';
    for (let i = 0; i < 2; i++) expect((await graphql(gw.url, trustedToken, arbitrary)).body).toEqual({ data: { subject: { score: { atLeast: true } } } });
    // The gateway has this document's standing ("any document") at hand; the switch must still apply at once.
    await changePartner(gw.services, trusted.id, { trustedDocumentsOnly: true }, operator);
    const released = await accessEvents();
    expect(await graphql(gw.url, trustedToken, arbitrary)).toEqual({
      status: 400,
      body: { errors: [{ message: 'This partner runs registered operations only: send the documentId of one (see GET /docs/partners).', extensions: { code: 'DOCUMENT_NOT_TRUSTED' } }] },
    });
    expect(await accessEvents()).toBe(released);
    expect(await removeTrustedDocuments(gw.services, trusted.id, [`sha256:${HASH}`], operator)).toEqual({ removed: [HASH], notRegistered: [] });
    const before = await accessEvents();
    const removed = await post(gw.url, trustedToken, { documentId: `sha256:${HASH}`, variables: VARIABLES });
    expect({ status: removed.status, code: removed.body.errors?.[0]?.extensions?.code }).toEqual({ status: 400, code: 'DOCUMENT_NOT_TRUSTED' });
    expect(await accessEvents()).toBe(before);
  });
});
