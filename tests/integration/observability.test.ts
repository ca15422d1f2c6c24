import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { STORE_KINDS } from '../fixtures/stores.js';
import { consentTo, seedSubjects } from '../fixtures/subjects.js';
import { createTestPartner, partnerToken, startGateway, type TestGateway, type TestPartner } from '../fixtures/gateway.js';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef0123456789';
const CALLER_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN_ID = '00f067aa0ba902b7';
/** Requests per partner per window: the rate test's partner goes over it, the others never reach it. */
const RATE_LIMIT = 3;
const SUBJECT = 'subject-traced-1';
const SCORE = 712;
const QUERY = `{ subject(id: "${SUBJECT}", purpose: "deposit_waiver") { score { atLeast(threshold: 650) band value } } }`;

interface Sent {
  status: number;
  requestId: string;
  body: { data?: any; errors?: any[] };
}

async function post(url: string, token: string | undefined, query: string, headers: Record<string, string> = {}): Promise<Sent> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: JSON.stringify({ query }),
  });
  return { status: res.status, requestId: res.headers.get('x-request-id')!, body: (await res.json()) as Sent['body'] };
}

/** One sample of a metric from the exposition text (0 when the series is absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

async function metricsOf(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
}

describe.each(STORE_KINDS)('what operators see of a request on %s', (kind) => {
  let gw: TestGateway;
  let partner: TestPartner;
  let token: string;
  /** Each test's partner has its own rate budget. */
  const consentingPartner = async () => {
    const p = await createTestPartner(gw.services, { scopes: ['score.threshold', 'score.band', 'score.value'], purposes: ['deposit_waiver'] });
    await consentTo(gw.services, SUBJECT, p.id, 'deposit_waiver', ['score.threshold', 'score.band']);
    return { partner: p, token: await partnerToken(gw.url, p) };
  };
  const spans = new InMemorySpanExporter();
  const logLines: string[] = [];
  const logs = () => logLines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const metrics = () => metricsOf(gw.url);

  beforeAll(async () => {
    gw = await startGateway(kind, {
      env: { CONSENTRY_METRICS_TOKEN: METRICS_TOKEN, CONSENTRY_RATE_LIMIT: String(RATE_LIMIT) },
      spanExporter: spans,
      logger: createLogger('info', { write: (line: string) => void logLines.push(line) }),
    });
    await seedSubjects(gw.services, [[SUBJECT, SCORE]]);
  });
  afterAll(() => gw?.close());
  beforeEach(async () => {
    ({ partner, token } = await consentingPartner());
    spans.reset();
    logLines.length = 0;
  });

  it('traces a partner request from the caller through every step, continuing its traceparent, with no score data', async () => {
    const sent = await post(gw.url, token, QUERY, { traceparent: `00-${CALLER_TRACE_ID}-${CALLER_SPAN_ID}-01` });
    expect(sent.body.data).toEqual({ subject: { score: { atLeast: true, band: 'EXCELLENT', value: null } } });

    const finished = spans.getFinishedSpans();
    const request = finished.find((s) => s.name === 'POST /graphql')!;
    expect(request.spanContext().traceId).toBe(CALLER_TRACE_ID);
    expect(request.parentSpanContext?.spanId).toBe(CALLER_SPAN_ID);
    expect(request.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/graphql',
      'http.response.status_code': 200,
      'graphql.operation.type': 'query',
      'consentry.request_id': sent.requestId,
      'consentry.partner.id': partner.id,
    });
    const childrenOf = (parent: ReadableSpan) => finished.filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId);
    const byName = new Map(childrenOf(request).map((s) => [s.name, s]));
    expect([...byName.keys()].sort()).toEqual(
      [
        'consentry.audit.append',
        'consentry.authenticate',
        'consentry.decide',
        'consentry.plan',
        'consentry.snapshot.read',
        'resolve Query.subject',
        'resolve ScoreSummary.atLeast',
        'resolve ScoreSummary.band',
        'resolve ScoreSummary.value',
        'resolve Subject.score',
      ].sort(),
    );
    expect(byName.get('consentry.plan')!.attributes).toEqual({ 'consentry.asks': 1, 'consentry.subjects': 1 });
    expect(byName.get('consentry.decide')!.attributes).toEqual({
      'consentry.decisions': 1,
      'consentry.categories.released': 2,
      'consentry.categories.denied': 1,
      'consentry.facts.cached': false,
    });
    expect(byName.get('consentry.snapshot.read')!.attributes).toMatchObject({ 'db.system.name': 'postgresql', 'consentry.subjects': 1, 'consentry.group.requests': 1 });
    expect(byName.get('consentry.audit.append')!.attributes).toMatchObject({ 'consentry.audit.events': 1, 'consentry.group.requests': 1 });
    expect(byName.get('resolve ScoreSummary.band')!.attributes).toEqual({
      'graphql.field.name': 'band',
      'graphql.field.type': 'ScoreSummary',
      'graphql.field.path': 'subject.score.band',
    });
    // Every step happened inside the request, in order: the audit commit ends before any resolver starts.
    const ms = (t: [number, number]) => t[0] * 1000 + t[1] / 1e6;
    expect(ms(byName.get('consentry.audit.append')!.endTime)).toBeLessThanOrEqual(ms(byName.get('resolve Query.subject')!.startTime));
    const values = finished.flatMap((s) => [s.name, ...Object.values(s.attributes), ...s.events.map((e) => JSON.stringify(e))]);
    expect(values).not.toContain(SCORE);
    for (const secret of ['EXCELLENT', SUBJECT, token]) expect(values.filter((v) => String(v).includes(secret))).toEqual([]);

    // The audit record of this request carries the same trace id.
    const [event] = await gw.services.db.query<{ details: Record<string, unknown> }>(
      `SELECT details FROM audit_events WHERE kind = 'access' AND request_id = $1`,
      [sent.requestId],
    );
    expect(event!.details).toEqual({ traceId: CALLER_TRACE_ID });
  });

  it('starts a new trace when the caller sends none, and says so in the access log line', async () => {
    const sent = await post(gw.url, token, QUERY);
    const request = spans.getFinishedSpans().find((s) => s.name === 'POST /graphql')!;
    expect(request.parentSpanContext).toBeUndefined();
    const line = logs().find((l) => l.requestId === sent.requestId)!;
    expect(line).toMatchObject({
      msg: 'request',
      level: 30,
      method: 'POST',
      route: '/graphql',
      status: 200,
      partnerId: partner.id,
      operationType: 'query',
      traceId: request.spanContext().traceId,
    });
    expect(line.durationMs).toEqual(expect.any(Number));
  });

  it('writes one access-log line per HTTP request, without tokens, URLs or score data', async () => {
    const refused = await post(gw.url, 'not-a-valid-token', QUERY);
    expect(refused.status).toBe(401);
    const assertion = await partnerToken(gw.url, partner);
    await post(gw.url, assertion, QUERY);
    await fetch(`${gw.url}/consent/some-request-id`, { redirect: 'manual' });
    const lines = logs().filter((l) => l.msg === 'request');
    expect(lines.map((l) => [l.method, l.route, l.status])).toEqual([
      ['POST', '/graphql', 401],
      ['POST', '/oauth/token', 200],
      ['POST', '/graphql', 200],
      ['GET', '/consent/:requestId', expect.any(Number)],
    ]);
    expect(lines[0]).not.toHaveProperty('partnerId');
    const text = logLines.join('\n');
    for (const secret of [assertion, 'not-a-valid-token', 'some-request-id', 'EXCELLENT', SUBJECT]) expect(text).not.toContain(secret);
  });

  it('exposes the metrics with the right types', async () => {
    const text = await metrics();
    const types = Object.fromEntries([...text.matchAll(/^# TYPE (consentry_\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]));
    expect(types).toEqual({
      consentry_store_round_trips_total: 'counter',
      consentry_audit_append_attempts_total: 'counter',
      consentry_audit_append_commits_total: 'counter',
      consentry_decisions_stale_total: 'counter',
      consentry_facts_cache_hits_total: 'counter',
      consentry_facts_cache_misses_total: 'counter',
      consentry_log_lines_dropped_total: 'counter',
      consentry_store_pool_connections: 'gauge',
      consentry_store_pool_waiting_requests: 'gauge',
      consentry_audit_chain_head_age_seconds: 'gauge',
      consentry_audit_checkpoint_age_seconds: 'gauge',
      consentry_audit_chain_shared: 'gauge',
      consentry_probing_flagged_partners: 'gauge',
      consentry_category_releases_total: 'counter',
      consentry_category_denials_total: 'counter',
      consentry_audit_group_commit_events: 'histogram',
      consentry_audit_append_duration_seconds: 'histogram',
      consentry_audit_append_failures_total: 'counter',
      consentry_access_snapshot_read_duration_seconds: 'histogram',
      consentry_graphql_request_duration_seconds: 'histogram',
      consentry_oauth_token_request_duration_seconds: 'histogram',
      consentry_refusals_total: 'counter',
      consentry_source_fetch_failures_total: 'counter',
      consentry_source_requests_total: 'counter',
    });
    expect(text).not.toContain('code=""');
    expect(sample(text, 'consentry_audit_chain_head_age_seconds')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'consentry_store_pool_connections', { state: 'idle' }) + sample(text, 'consentry_store_pool_connections', { state: 'in_use' })).toBeGreaterThan(0);
  });

  it('moves the request, snapshot, audit, decision and token metrics when a partner asks', async () => {
    const before = await metrics();
    const fresh = await partnerToken(gw.url, partner);
    await post(gw.url, fresh, QUERY);
    const after = await metrics();
    const moved = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);
    expect({
      query: moved('consentry_graphql_request_duration_seconds_count', { operation_type: 'query', outcome: 'ok' }),
      snapshot: moved('consentry_access_snapshot_read_duration_seconds_count'),
      append: moved('consentry_audit_append_duration_seconds_count'),
      groupCommits: moved('consentry_audit_group_commit_events_count'),
      released: moved('consentry_category_releases_total', { partner: partner.id }),
      denied: moved('consentry_category_denials_total', { partner: partner.id, code: 'CONSENT_REQUIRED' }),
      tokens: moved('consentry_oauth_token_request_duration_seconds_count', { outcome: 'issued' }),
      roundTripsAtLeast2: moved('consentry_store_round_trips_total') >= 2,
    }).toEqual({ query: 1, snapshot: 1, append: 1, groupCommits: 1, released: 2, denied: 1, tokens: 1, roundTripsAtLeast2: true });
  });

  it('counts refusals by status: 401 and 429', async () => {
    const before = await metrics();
    await post(gw.url, undefined, QUERY);
    const busy = await createTestPartner(gw.services, { scopes: ['score.threshold'], purposes: ['deposit_waiver'] });
    const busyToken = await partnerToken(gw.url, busy);
    const statuses: number[] = [];
    for (let i = 0; i <= RATE_LIMIT; i++) statuses.push((await post(gw.url, busyToken, QUERY)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const after = await metrics();
    const moved = (labels: Record<string, string>) => sample(after, 'consentry_refusals_total', labels) - sample(before, 'consentry_refusals_total', labels);
    expect({ unauthenticated: moved({ status: '401', route: '/graphql' }), limited: moved({ status: '429', route: '/graphql' }) }).toEqual({
      unauthenticated: 1,
      limited: 1,
    });
    expect(
      sample(after, 'consentry_graphql_request_duration_seconds_count', { operation_type: 'query', outcome: 'refused' }) -
        sample(before, 'consentry_graphql_request_duration_seconds_count', { operation_type: 'query', outcome: 'refused' }),
    ).toBe(1);
  });
});

/**
 * Whether this process shares the audit chain with other writers (replicas,
 * consent changes) decides whether its group commits wait for each other
 * (CONSENTRY_AUDIT_GROUP_LINGER_MS); operators see it as a gauge.
 */
describe.each(STORE_KINDS)('the audit chain sharing gauge on %s', (kind) => {
  let gw: TestGateway;
  let partner: TestPartner;
  let token: string;
  const shared = async () => sample(await metricsOf(gw.url), 'consentry_audit_chain_shared');

  beforeAll(async () => {
    gw = await startGateway(kind, { env: { CONSENTRY_METRICS_TOKEN: METRICS_TOKEN, CONSENTRY_RATE_LIMIT: '1000' } });
    await seedSubjects(gw.services, [[SUBJECT, SCORE]]);
    partner = await createTestPartner(gw.services, { scopes: ['score.threshold', 'score.band', 'score.value'], purposes: ['deposit_waiver'] });
    await consentTo(gw.services, SUBJECT, partner.id, 'deposit_waiver', ['score.threshold', 'score.band']);
    token = await partnerToken(gw.url, partner);
  });
  afterAll(() => gw?.close());

  it('reads 0 while only its own requests append, 1 while consent changes land between them, and 0 again once they stop', async () => {
    const requests = async (n: number, between?: (i: number) => Promise<unknown>) => {
      for (let i = 0; i < n; i++) {
        expect((await post(gw.url, token, QUERY)).status).toBe(200);
        await between?.(i);
      }
    };
    await requests(9);
    expect(await shared()).toBe(0);
    // Consent changes commit their own events between this gateway's group commits, as another replica's would.
    await requests(9, (i) => consentTo(gw.services, `${SUBJECT}-other-${i}`, partner.id, 'deposit_waiver', ['score.band']));
    expect(await shared()).toBe(1);
    await requests(9);
    expect(await shared()).toBe(0);
  });
});
