import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyStoredChain } from '../../src/audit/verifyStoredChain.js';
import type { Database } from '../../src/store/database.js';
import { allowConnections } from '../fixtures/postgres.js';
import { STORE_KINDS } from '../fixtures/stores.js';
import { consentTo, seedSubjects } from '../fixtures/subjects.js';
import { createTestPartner, graphql, partnerToken, startGateway, type TestGateway, type TestPartner } from '../fixtures/gateway.js';

const ALL_FIELDS = `id score { atLeast(threshold: 650) band value dimensions { creditHistory } factors { code } history(months: 2) { month value } asOf model } identity { verified }`;

async function accessEvents(db: Database): Promise<Record<string, unknown>[]> {
  return db.query(`SELECT * FROM audit_events WHERE kind = 'access' ORDER BY seq`);
}

/** The whole chain re-verified from the rows as stored: hashes, links, sequence, checkpoints. */
async function chainProblems(gw: TestGateway): Promise<unknown[]> {
  const result = await verifyStoredChain({ db: gw.services.db, keys: gw.services.keys });
  return result.problem ? [result.problem] : [];
}

describe.each(STORE_KINDS)('audit before release on %s', (kind) => {
  let gw: TestGateway;
  let lender: TestPartner;
  let token: string;
  const ids = Array.from({ length: 100 }, (_, i) => `subj-${i}`);

  beforeAll(async () => {
    gw = await startGateway(kind);
    lender = await createTestPartner(gw.services, { purposes: ['credit_underwriting'] });
    await seedSubjects(gw.services, ids.map((id, i) => [id, 400 + i * 5] as [string, number]));
    for (const id of ids.slice(0, 10)) {
      await consentTo(gw.services, id, lender.id, 'credit_underwriting', ['score.band', 'score.value', 'score.threshold']);
    }
    token = await partnerToken(gw.url, lender);
  });
  afterAll(() => gw?.close());

  it('records one access event per subject with the decision and the consents used, never a score value', async () => {
    const before = (await accessEvents(gw.services.db)).length;
    const res = await graphql(
      gw.url,
      token,
      `{ subjects(ids: ["subj-7", "subj-50"], purpose: "credit_underwriting") { score { value band factors { code } } } }`,
    );
    expect(res.body.data.subjects[0].score.value).toBe(435);
    const events = (await accessEvents(gw.services.db)).slice(before);
    const consentOf7 = (await gw.services.db.query<{ id: string }>(`SELECT id FROM consents WHERE subject_id = 'subj-7'`))[0]!.id;
    // Events name subjects by keyed pseudonym, never by id (docs/audit-chain.md, section 7).
    const pseudonyms = await gw.services.pseudonyms.lookup(gw.services.db, ['subj-7', 'subj-50']);
    expect([...pseudonyms.values()].every((p) => /^sp_[0-9a-f]{64}$/.test(p))).toBe(true);
    expect(events.map((e) => ({ ...e, seq: undefined, at: undefined, hash: undefined, prev_hash: undefined, request_id: undefined }))).toEqual([
      {
        seq: undefined, at: undefined, hash: undefined, prev_hash: undefined, request_id: undefined,
        kind: 'access', actor_type: 'partner', actor_id: lender.id, partner_id: lender.id, subject_id: pseudonyms.get('subj-7'),
        purpose: 'credit_underwriting', released: ['score.band', 'score.value'],
        denied: [{ category: 'score.factors', code: 'CONSENT_REQUIRED' }], consent_ids: [consentOf7], details: {},
      },
      {
        seq: undefined, at: undefined, hash: undefined, prev_hash: undefined, request_id: undefined,
        kind: 'access', actor_type: 'partner', actor_id: lender.id, partner_id: lender.id, subject_id: pseudonyms.get('subj-50'),
        purpose: 'credit_underwriting', released: [],
        denied: [
          { category: 'score.band', code: 'CONSENT_REQUIRED' },
          { category: 'score.factors', code: 'CONSENT_REQUIRED' },
          { category: 'score.value', code: 'CONSENT_REQUIRED' },
        ],
        consent_ids: [], details: {},
      },
    ]);
    expect(events[0]!.request_id).toBe(events[1]!.request_id);
    const everything = JSON.stringify(await gw.services.db.query('SELECT * FROM audit_events'));
    expect(everything).not.toMatch(/\b435\b/);
    expect(everything).not.toContain('subj-7');
  });

  it('keeps one unbroken chain under 200 concurrent requests', async () => {
    const before = (await accessEvents(gw.services.db)).length;
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        graphql(gw.url, token, `{ subject(id: "subj-${i % 20}", purpose: "credit_underwriting") { score { band } } }`),
      ),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect((await accessEvents(gw.services.db)).length - before).toBe(200);
    expect(await chainProblems(gw)).toEqual([]);
  });

  it('uses the same number of store round trips for 1 subject with every field as for 79 subjects', async () => {
    const roundTrips = async (query: string) => {
      const counted = async () => {
        const start = gw.services.db.roundTrips;
        const res = await graphql(gw.url, token, query);
        expect(res.status).toBe(200);
        return gw.services.db.roundTrips - start;
      };
      return { first: await counted(), again: await counted() };
    };
    // Subjects no earlier request read (those read the first twenty).
    const one = await roundTrips(`{ subject(id: "subj-99", purpose: "credit_underwriting") { ${ALL_FIELDS} } }`);
    const many = await roundTrips(`{ subjects(ids: ${JSON.stringify(ids.slice(20, 99))}, purpose: "credit_underwriting") { ${ALL_FIELDS} } }`);
    expect(many).toEqual(one);
    // First: decision facts with the consenting subjects' data (1) + the audit append, which checks them (1).
    // Again: the facts come from the process's cache and the checked append is the only statement.
    expect(one).toEqual({ first: 2, again: 1 });
  });

  it('fails closed with 503 and no data when the audit log cannot be written, and recovers', async () => {
    await gw.services.db.query('ALTER TABLE audit_events ADD CONSTRAINT refuse_writes CHECK (false) NOT VALID');
    const q = `{ subject(id: "subj-3", purpose: "credit_underwriting") { score { value } } }`;
    const res = await graphql(gw.url, token, q);
    expect(res.status).toBe(503);
    expect(res.body.data).toBeUndefined();
    expect(res.body.errors).toEqual([
      {
        message: 'The audit log could not record this request; nothing was released. Try again shortly.',
        extensions: { code: 'SERVICE_UNAVAILABLE' },
      },
    ]);
    await gw.services.db.query('ALTER TABLE audit_events DROP CONSTRAINT refuse_writes');
    expect((await graphql(gw.url, token, q)).body).toEqual({ data: { subject: { score: { value: 415 } } } });
    expect(await chainProblems(gw)).toEqual([]);
  });

  it('hides internal failures behind a generic error without SQL', async () => {
    await gw.services.db.query('ALTER TABLE score_summaries RENAME TO score_summaries_moved');
    try {
      // A subject no earlier request read, so the failing statement is the read of its facts (a failing append is a 503, above).
      const res = await graphql(gw.url, token, `{ subject(id: "subj-unread", purpose: "credit_underwriting") { score { value } } }`);
      const text = JSON.stringify(res.body);
      expect(text).not.toMatch(/score_summaries|SELECT|relation|stack/i);
      expect(res.body.errors).toEqual([{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
      expect(res.body.data).toBeUndefined();
      expect(res.status).toBe(500);
    } finally {
      await gw.services.db.query('ALTER TABLE score_summaries_moved RENAME TO score_summaries');
    }
  });

  it('refuses more than 1000 subjects and too many aliases as QUERY_TOO_COMPLEX (400)', async () => {
    const many = Array.from({ length: 1001 }, (_, i) => `x${i}`);
    const res = await graphql(gw.url, token, `{ subjects(ids: ${JSON.stringify(many)}, purpose: "credit_underwriting") { id } }`);
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
    const aliases = Array.from({ length: 40 }, (_, i) => `a${i}: subject(id: "subj-1", purpose: "credit_underwriting") { id }`).join(' ');
    const res2 = await graphql(gw.url, token, `{ ${aliases} }`);
    expect(res2.status).toBe(400);
    expect(res2.body.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
  });
});

describe('a store outage on postgres', () => {
  let gw: TestGateway;
  let token: string;
  let dbName: string;
  const setConnections = (allow: boolean) => allowConnections(dbName, allow);

  beforeAll(async () => {
    gw = await startGateway('postgres');
    [{ name: dbName }] = await gw.store.db.query<{ name: string }>('SELECT current_database() AS name');
    const p = await createTestPartner(gw.services, { purposes: ['credit_underwriting'] });
    await seedSubjects(gw.services, [['s1', 720]]);
    await consentTo(gw.services, 's1', p.id, 'credit_underwriting', ['score.value']);
    token = await partnerToken(gw.url, p);
  });
  afterAll(async () => {
    await setConnections(true);
    await gw?.close();
  });

  it('answers 503 with no data while PostgreSQL is unreachable and recovers without a restart', async () => {
    const q = `{ subject(id: "s1", purpose: "credit_underwriting") { score { value } } }`;
    expect((await graphql(gw.url, token, q)).body).toEqual({ data: { subject: { score: { value: 720 } } } });
    await setConnections(false);
    const down = await graphql(gw.url, token, q);
    expect(down.status).toBe(503);
    expect(down.body.data).toBeUndefined();
    expect(down.body.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(503);
    await setConnections(true);
    expect((await graphql(gw.url, token, q)).body).toEqual({ data: { subject: { score: { value: 720 } } } });
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);
  });
});

describe('rate limits shared through Redis', () => {
  let first: TestGateway;
  let second: TestGateway;
  beforeAll(async () => {
    const env = { CONSENTRY_RATE_LIMIT: '4', REDIS_URL: 'redis://127.0.0.1:6379' };
    first = await startGateway('postgres', { env });
    // A second replica on the same database and the same Redis.
    const config = { ...env, ...first.store.env, CONSENTRY_ISSUER: first.url };
    second = await startGateway('postgres', { env: config });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  it("counts a partner's requests across replicas", async () => {
    const p = await createTestPartner(first.services);
    const q = `{ subject(id: "s1", purpose: "deposit_waiver") { id } }`;
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await graphql(first.url, await partnerToken(first.url, p), q)).status);
    for (let i = 0; i < 2; i++) statuses.push((await graphql(second.url, await partnerToken(first.url, p), q)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
  });
});

describe('rate limits', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway('pglite', { env: { CONSENTRY_RATE_LIMIT: '3' } });
  });
  afterAll(() => gw?.close());

  it('refuses a partner over its rate with RATE_LIMITED (429) and Retry-After', async () => {
    const p = await createTestPartner(gw.services);
    const token = await partnerToken(gw.url, p);
    const q = `{ subject(id: "s1", purpose: "deposit_waiver") { id } }`;
    for (let i = 0; i < 3; i++) expect((await graphql(gw.url, token, q)).status).toBe(200);
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: q }),
    });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await res.json()) as any).errors[0].extensions.code).toBe('RATE_LIMITED');
  });
});
