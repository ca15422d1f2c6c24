import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { POLICY_VERSION } from '../../src/consent/receipts.js';
import { createTestPartner, graphql, listenGateway, partnerToken, startGateway, type TestGateway, type TestPartner } from '../fixtures/gateway.js';
import { STORE_KINDS } from '../fixtures/stores.js';
import { consentTo, summaryFor } from '../fixtures/subjects.js';
import { startUpstreamScoreService, type UpstreamScoreService } from '../fixtures/upstreamScoreService.js';

const BREAKER_RESET_MS = 400;
// Room for a 1,000-subject answer on a busy machine; the slow upstream below waits well past it.
const UPSTREAM_TIMEOUT_MS = 1500;
const SLOW_UPSTREAM_MS = 4000;
const MANY = 1000;
const many = Array.from({ length: MANY }, (_, i) => `m-${i}`);

const sourceUnavailable = (path: (string | number)[], reason: string) =>
  expect.objectContaining({ path, extensions: { code: 'SOURCE_UNAVAILABLE', reason } });
const denied = (code: string, path: (string | number)[], category: string) =>
  expect.objectContaining({ path, extensions: { code, category, purpose: 'deposit_waiver' } });

describe.each(STORE_KINDS)('an upstream score service on %s', (kind) => {
  let upstream: UpstreamScoreService;
  let gw: TestGateway;
  let partner: TestPartner;
  let token: string;

  beforeAll(async () => {
    upstream = await startUpstreamScoreService([
      summaryFor('alice', 712),
      summaryFor('bob', 640),
      summaryFor('carol', 580),
      summaryFor('dave', 690),
      ...many.map((id, i) => summaryFor(id, 350 + (i % 600))),
    ]);
    gw = await startGateway(kind, {
      env: {
        ...upstream.env(),
        CONSENTRY_UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
        CONSENTRY_UPSTREAM_BREAKER_FAILURES: '3',
        CONSENTRY_UPSTREAM_BREAKER_RESET_MS: String(BREAKER_RESET_MS),
      },
    });
    partner = await createTestPartner(gw.services, {
      scopes: ['score.threshold', 'score.band', 'score.value', 'score.history', 'identity.verified'],
      purposes: ['deposit_waiver'],
    });
    // The gateway's database holds consents only: no subject or score rows at all.
    await consentTo(gw.services, 'alice', partner.id, 'deposit_waiver', ['score.threshold', 'score.band', 'identity.verified']);
    await consentTo(gw.services, 'bob', partner.id, 'deposit_waiver', ['score.threshold']);
    await consentTo(gw.services, 'dave', partner.id, 'deposit_waiver', ['score.threshold', 'score.value', 'score.history']);
    // One statement: a thousand separate grants would only slow the suite down.
    await gw.services.db.query(
      `INSERT INTO consents (id, subject_id, partner_id, purpose, categories, granted_at, expires_at, channel, request_id, policy_version, receipt)
       SELECT gen_random_uuid(), s, $1, 'deposit_waiver', $2, now(), now() + interval '1 day', 'cli', NULL, $3, 'test' FROM unnest($4::text[]) s`,
      [partner.id, JSON.stringify(['score.band']), POLICY_VERSION, many],
    );
    token = await partnerToken(gw.url, partner);
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.stop();
  });
  beforeEach(() => upstream.reset());

  it('asks the upstream, in one request, for exactly the released fields of exactly the consenting subjects', async () => {
    const res = await graphql(
      gw.url,
      token,
      `{ subjects(ids: ["alice", "bob", "carol", "dave", "nobody"], purpose: "deposit_waiver") {
          id score { atLeast(threshold: 650) band value history(months: 2) { month value } asOf } identity { verified }
      } }`,
    );
    expect(res.status).toBe(200);
    const asOf = '2026-05-31T00:00:00.000Z';
    expect(res.body.data).toEqual({
      subjects: [
        { id: 'alice', score: { atLeast: true, band: 'EXCELLENT', value: null, history: null, asOf }, identity: { verified: true } },
        { id: 'bob', score: { atLeast: false, band: null, value: null, history: null, asOf }, identity: null },
        { id: 'carol', score: { atLeast: null, band: null, value: null, history: null, asOf: null }, identity: null },
        {
          id: 'dave',
          score: { atLeast: true, band: null, value: 690, history: [{ month: '2026-05', value: 690 }, { month: '2026-04', value: 685 }], asOf },
          identity: null,
        },
        { id: 'nobody', score: { atLeast: null, band: null, value: null, history: null, asOf: null }, identity: null },
      ],
    });
    expect(res.body.errors).toContainEqual(denied('CONSENT_REQUIRED', ['subjects', 1, 'score', 'band'], 'score.band'));
    expect(upstream.requests).toHaveLength(1);
    // Grouped by what was released; carol and "nobody" never leave the gateway; dave's threshold is compared here, from his released value.
    expect(upstream.asks.map((a) => ({ ...a, ids: [...a.ids].sort() })).sort((a, b) => a.ids[0]!.localeCompare(b.ids[0]!))).toEqual([
      { ids: ['alice'], fields: ['identity', 'score.asOf', 'score.atLeast(650)', 'score.band'] },
      { ids: ['bob'], fields: ['score.asOf', 'score.atLeast(650)'] },
      { ids: ['dave'], fields: ['score.asOf', 'score.history(2)', 'score.value'] },
    ]);
  });

  it('never asks the upstream for the value when only the threshold bit is released', async () => {
    const res = await graphql(gw.url, token, `{ subject(id: "bob", purpose: "deposit_waiver") { score { low: atLeast(threshold: 600) high: atLeast(threshold: 700) } } }`);
    expect(res.body).toEqual({ data: { subject: { score: { low: true, high: false } } } });
    expect(upstream.asks).toEqual([{ ids: ['bob'], fields: ['score.atLeast(600)', 'score.atLeast(700)'] }]);
  });

  it('sends nothing upstream when nothing is released', async () => {
    const res = await graphql(gw.url, token, `{ subject(id: "carol", purpose: "deposit_waiver") { score { band } } }`);
    expect(res.body.errors).toEqual([denied('CONSENT_REQUIRED', ['subject', 'score', 'band'], 'score.band')]);
    expect(upstream.requests).toEqual([]);
  });

  it('fetches a 1,000-subject batch in one upstream request', async () => {
    const res = await graphql(gw.url, token, `{ subjects(ids: ${JSON.stringify(many)}, purpose: "deposit_waiver") { id score { band } } }`);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.subjects).toHaveLength(MANY);
    expect(res.body.data.subjects[1]).toEqual({ id: 'm-1', score: { band: 'POOR' } });
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.asks).toHaveLength(1);
    expect(upstream.asks[0]!.ids).toHaveLength(MANY);
    expect(upstream.asks[0]!.fields).toEqual(['score.band']);
  });

  it('shares one upstream request between concurrent partner requests', async () => {
    upstream.delayMs = 50; // the first fetch is in flight while the others arrive
    const results = await Promise.all(
      ['alice', 'bob', 'dave', 'alice', 'bob', 'dave'].map((id) => graphql(gw.url, token, `{ subject(id: "${id}", purpose: "deposit_waiver") { score { atLeast(threshold: 650) } } }`)),
    );
    expect(results.map((r) => r.body.data.subject.score.atLeast)).toEqual([true, false, true, true, false, true]);
    expect(upstream.requests.length).toBeLessThan(results.length);
  });

  it('fails closed on a slow upstream: released fields null with SOURCE_UNAVAILABLE at the deadline, denials unchanged', async () => {
    upstream.delayMs = SLOW_UPSTREAM_MS;
    const started = Date.now();
    const res = await graphql(gw.url, token, `{ subject(id: "alice", purpose: "deposit_waiver") { score { atLeast(threshold: 650) value } identity { verified } } }`);
    expect(Date.now() - started).toBeLessThan(SLOW_UPSTREAM_MS - 1000);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ subject: { score: { atLeast: null, value: null }, identity: null } });
    expect(res.body.errors).toEqual(
      expect.arrayContaining([
        sourceUnavailable(['subject', 'score', 'atLeast'], 'timeout'),
        sourceUnavailable(['subject', 'identity'], 'timeout'),
        denied('CONSENT_REQUIRED', ['subject', 'score', 'value'], 'score.value'),
      ]),
    );
    expect(res.body.errors).toHaveLength(3);
    await waitForBreakerReset();
  });

  it.each([
    ['a 5xx answer', (u: UpstreamScoreService) => (u.failWith5xx = true), 'http_status'],
    ['an answer that is not JSON', (u: UpstreamScoreService) => (u.malformedBody = '<html>'), 'malformed'],
    ['a value out of range', (u: UpstreamScoreService) => (u.malformedBody = JSON.stringify({ data: { g0: [{ id: 'bob', score: { t0: 'yes' } }] } })), 'malformed'],
    ['a subject nobody asked for', (u: UpstreamScoreService) => (u.malformedBody = JSON.stringify({ data: { g0: [{ id: 'carol', score: { t0: true } }] } })), 'malformed'],
    ['GraphQL errors', (u: UpstreamScoreService) => (u.malformedBody = JSON.stringify({ data: null, errors: [{ message: 'boom' }] })), 'graphql_errors'],
  ])('fails closed on %s, and records that a released fetch failed', async (_name, breakIt, reason) => {
    breakIt(upstream);
    const res = await graphql(gw.url, token, `{ subject(id: "bob", purpose: "deposit_waiver") { score { atLeast(threshold: 650) } } }`);
    expect(res.body).toEqual({ data: { subject: { score: { atLeast: null } } }, errors: [sourceUnavailable(['subject', 'score', 'atLeast'], reason)] });
    const [failed] = await gw.services.db.query<{ kind: string; partner_id: string; details: Record<string, unknown> }>(
      `SELECT kind, partner_id, details FROM audit_events WHERE kind = 'access.fetch_failed' ORDER BY seq DESC LIMIT 1`,
    );
    expect(failed).toEqual({ kind: 'access.fetch_failed', partner_id: partner.id, details: { reason, source: 'upstream', subjects: 1 } });
    await waitForBreakerReset();
  });

  it('opens the circuit after repeated failures, reports the upstream down on /readyz, and recovers when it returns', async () => {
    const ask = () => graphql(gw.url, token, `{ subject(id: "bob", purpose: "deposit_waiver") { score { atLeast(threshold: 650) } } }`);
    expect((await ask()).body.errors).toBeUndefined(); // a success closes the circuit the tests above left half-open
    await upstream.stop();
    for (let i = 0; i < 3; i++) expect((await ask()).body.errors).toEqual([sourceUnavailable(['subject', 'score', 'atLeast'], 'connection')]);
    // Open: refused at once, the dead upstream is not tried.
    expect((await ask()).body.errors).toEqual([sourceUnavailable(['subject', 'score', 'atLeast'], 'circuit_open')]);
    const down = await fetch(`${gw.url}/readyz`);
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ status: 'not ready', checks: { store: 'ok', audit: 'ok', keys: 'ok', source: 'unreachable' } });
    const metrics = await gw.services.metrics.registry.getSingleMetricAsString('consentry_source_fetch_failures_total');
    expect(metrics).toContain(`consentry_source_fetch_failures_total{partner="${partner.id}",reason="circuit_open"} 1`);

    await upstream.start();
    const up = await fetch(`${gw.url}/readyz`);
    expect(await up.json()).toEqual({ status: 'ready', checks: { store: 'ok', audit: 'ok', keys: 'ok', source: 'ok' } });
    await waitForBreakerReset();
    expect((await ask()).body).toEqual({ data: { subject: { score: { atLeast: false } } } });
  });

  it('authenticates with OAuth client credentials, fetching a token once and reusing it', async () => {
    const other = await listenGateway(gw.store.env, { db: gw.store.db, env: { ...upstream.env('client_credentials'), LOG_LEVEL: 'silent' } });
    try {
      const before = upstream.tokensIssued;
      const t = await partnerToken(other.url, partner);
      for (const id of ['alice', 'bob']) {
        const res = await graphql(other.url, t, `{ subject(id: "${id}", purpose: "deposit_waiver") { score { atLeast(threshold: 650) } } }`);
        expect(res.body.errors).toBeUndefined();
      }
      expect(upstream.tokensIssued - before).toBe(1);
      expect(upstream.requests).toHaveLength(2);
    } finally {
      await other.server.close();
    }
  });

  async function waitForBreakerReset(): Promise<void> {
    upstream.reset();
    await new Promise((r) => setTimeout(r, BREAKER_RESET_MS + 50));
  }
});
