/**
 * `npm run bench`: Consentry (full enforcement + audit on PostgreSQL) against
 * a bare Apollo Server 5 with the same schema and in-memory data, driven by
 * the same autocannon load from this process, side by side in one run.
 * Prints rps, p50, p99, the ratios, and store round trips per request.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import autocannon from 'autocannon';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { createServices } from '../src/services.js';
import { upsertScoreSummaries } from '../src/store/scoreSummaries.js';
import { createTestPartner, partnerToken } from '../tests/fixtures/gateway.js';
import { freePort } from '../tests/fixtures/ports.js';
import { consentTo } from '../tests/fixtures/subjects.js';
import { UPSTREAM_TOKEN } from '../tests/fixtures/upstreamScoreService.js';
import { cpuSeconds, postgresCpuSeconds } from './cpu.js';
import { CONSENTRY, PROFILE_FLAGS, start } from './processes.js';
import { ALL_CATEGORIES, benchSubjects, EVERY_FIELD } from './data.js';
import { startOtlpSink } from './otlpSink.js';

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const DURATION = Number(process.env.BENCH_SECONDS ?? 20);
/**
 * Seconds of load each server takes before it is measured in a scenario. With 2, Consentry's and the
 * typical implementation's first turns still ran at a tenth less throughput, at more CPU per request, than
 * their later ones: they were still warming up, which the bare server, with far less code, did not show.
 */
const WARMUP = 6;
/**
 * Turns each server takes in a comparison scenario, sharing BENCH_SECONDS between them: four of 5 s, as
 * a noisy machine's speed drifts within a run and two turns left the ratios varying by a third between runs.
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const METRICS_TOKEN = randomBytes(24).toString('hex');

interface Scenario {
  name: string;
  subjects: number;
  connections: number;
}
const SCENARIOS: Scenario[] = [
  { name: '(a) 1 subject, every category', subjects: 1, connections: 16 },
  { name: '(b) 50-subject batch', subjects: 50, connections: 8 },
  { name: '(c) 1,000-subject batch', subjects: 1000, connections: 2 },
  // Not a comparison with the bare server: a partner's latency alone, then while two anonymous senders post hostile documents.
  { name: '(d) under attack', subjects: 0, connections: 4 },
  // Not a comparison with the bare server either: Consentry with tracing exported over OTLP against Consentry without.
  { name: '(e) tracing on vs off', subjects: 0, connections: 16 },
];

/** (u): the same loads as (a)–(c) on Consentry with the local store and on Consentry in front of an upstream score service. */
const UPSTREAM_SCENARIOS: Scenario[] = [
  { name: '(u) 1 subject', subjects: 1, connections: 16 },
  { name: '(u) 50-subject batch', subjects: 50, connections: 8 },
  { name: '(u) 1,000-subject batch', subjects: 1000, connections: 2 },
];

/** Consentry as benchmarked: production mode, full enforcement and audit, no rate limit in the way, metrics readable. */
function gatewayEnv(databaseUrl: string, port: number, issuer: string): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    CONSENTRY_ISSUER: issuer,
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    CONSENTRY_RATE_LIMIT: '10000000',
    CONSENTRY_METRICS_TOKEN: METRICS_TOKEN,
  };
}

let scrapes = 0;
async function roundTrips(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  // Every scrape reads the audit chain's ages with one statement of its own: not a request's round trip.
  scrapes++;
  return Number(/^consentry_store_round_trips_total (\d+)/m.exec(text)?.[1] ?? NaN) - scrapes;
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
}

/**
 * What one server did over its turns in a scenario. Its latency percentiles are those of every request it
 * answered in all of its turns together, not the worst turn's p99: that statistic grows with the number of
 * turns, and more with a server whose tail varies more.
 */
interface Measure {
  requests: number;
  seconds: number;
  latencies: number[];
  cpu: number;
  postgresCpu: number;
  non2xx: number;
  errors: number;
}

function emptyMeasure(): Measure {
  return { requests: 0, seconds: 0, latencies: [], cpu: 0, postgresCpu: 0, non2xx: 0, errors: 0 };
}

function addMeasure(m: Measure, r: autocannon.Result, cpu: number, postgresCpu: number): void {
  m.requests += r.requests.total;
  m.seconds += r.duration;
  m.cpu += cpu;
  m.postgresCpu += postgresCpu;
  m.non2xx += r.non2xx;
  m.errors += r.errors;
}

const rps = (m: Measure) => m.requests / m.seconds;
/** The latency under which a share `q` of the measured requests were answered, in ms to a tenth. */
function percentile(m: Measure, q: number): number {
  const sorted = Float64Array.from(m.latencies).sort();
  return sorted.length ? +sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!.toFixed(1) : NaN;
}
const p50 = (m: Measure) => percentile(m, 0.5);
const p99 = (m: Measure) => percentile(m, 0.99);

/** Drives a server with autocannon; with `latencies`, each answer's latency (ms) is added to it. */
function load(url: string, body: string, token: string | undefined, connections: number, duration: number, latencies?: number[]) {
  const run = autocannon({
    url: `${url}/graphql`,
    method: 'POST',
    connections,
    duration,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });
  // What autocannon returns is also the run's event emitter, which its types leave out.
  if (latencies) (run as unknown as EventEmitter).on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => latencies.push(ms));
  return run;
}

/**
 * (d): one partner's single-subject reads (4 connections) alone, then while
 * two anonymous senders each keep posting a 1.1 MB document of tens of
 * thousands of __typename aliases. The gateway should refuse those before
 * parsing them (413/401), and the partner's latency should not move.
 */
async function underAttack(url: string, token: string, subjectId: string): Promise<Record<string, string | number>[]> {
  const partnerBody = JSON.stringify({ query: `{ subject(id: "${subjectId}", purpose: "credit_underwriting") { ${EVERY_FIELD} } }` });
  const hostile = JSON.stringify({ query: `{ ${Array.from({ length: 60_000 }, (_, i) => `a${i}: __typename`).join(' ')} }` });
  await load(url, partnerBody, token, 4, WARMUP);
  const calm = await load(url, partnerBody, token, 4, DURATION);
  const [attacked, ...attackers] = await Promise.all([
    load(url, partnerBody, token, 4, DURATION),
    load(url, hostile, undefined, 1, DURATION),
    load(url, hostile, undefined, 1, DURATION),
  ]);
  if (calm.non2xx || attacked.non2xx) throw new Error('(d): the partner got errors');
  const row = (name: string, r: autocannon.Result) => ({
    scenario: name,
    requests: r.requests.total,
    'p50 ms': r.latency.p50,
    'p99 ms': r.latency.p99,
    'non-2xx': r.non2xx,
  });
  return [
    row('(d) partner alone', calm),
    row('(d) partner under attack', attacked),
    ...attackers.map((r, i) => row(`(d) anonymous 1.1 MB sender ${i + 1}`, r)),
  ];
}

/**
 * (e): the same single-subject load on two Consentry processes over the same
 * database, one exporting every span over OTLP/HTTP (to a sink in this
 * process), one with tracing off, each measured twice, alternating, so drift
 * on the busy machine falls on both.
 */
interface BenchGateway {
  url: string;
  child: ChildProcess;
  token: string;
}

async function tracingOverhead(off: BenchGateway, on: BenchGateway, body: string, connections: number): Promise<Record<string, string | number>[]> {
  const runs: Record<'off' | 'on', { rps: number; p50: number; p99: number; cpu: number }[]> = { off: [], on: [] };
  for (const round of [1, 2]) {
    for (const [label, gw] of [['off', off], ['on', on]] as const) {
      await load(gw.url, body, gw.token, connections, WARMUP);
      const cpu0 = cpuSeconds(gw.child);
      const r = await load(gw.url, body, gw.token, connections, DURATION);
      if (r.non2xx || r.errors) throw new Error(`(e) tracing ${label}, round ${round}: non-2xx or errors`);
      runs[label].push({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, cpu: (cpuSeconds(gw.child) - cpu0) / r.requests.total });
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const summary = (label: 'off' | 'on') => ({
    rps: mean(runs[label].map((r) => r.rps)),
    p50: mean(runs[label].map((r) => r.p50)),
    p99: mean(runs[label].map((r) => r.p99)),
    cpu: mean(runs[label].map((r) => r.cpu)),
  });
  const [a, b] = [summary('off'), summary('on')];
  return [
    { scenario: '(e) tracing off', connections, rps: Math.round(a.rps), 'p50 ms': a.p50, 'p99 ms': a.p99, 'CPU ms/req': +(a.cpu * 1000).toFixed(3) },
    {
      scenario: '(e) tracing on (OTLP/HTTP)',
      connections,
      rps: Math.round(b.rps),
      'p50 ms': b.p50,
      'p99 ms': b.p99,
      'CPU ms/req': +(b.cpu * 1000).toFixed(3),
      'rps ratio on/off': +(b.rps / a.rps).toFixed(3),
      'CPU overhead %': +((b.cpu / a.cpu - 1) * 100).toFixed(1),
    },
  ];
}

/**
 * (u): one gateway on the local store, one in front of the upstream score
 * service (same database, same partner, same consents), driven in turn with
 * the same load. Reports throughput, latency, the CPU of the gateway and of
 * the upstream per request, and upstream requests per partner request.
 */
async function upstreamComparison(
  local: { url: string; process: ChildProcess; token: string },
  remote: { url: string; process: ChildProcess; token: string },
  upstreamProcess: ChildProcess,
  subjectIds: string[],
): Promise<Record<string, string | number>[]> {
  const rows: Record<string, string | number>[] = [];
  for (const scenario of UPSTREAM_SCENARIOS) {
    const ids = subjectIds.slice(0, scenario.subjects);
    const query =
      scenario.subjects === 1
        ? `{ subject(id: "${ids[0]}", purpose: "credit_underwriting") { ${EVERY_FIELD} } }`
        : `{ subjects(ids: ${JSON.stringify(ids)}, purpose: "credit_underwriting") { ${EVERY_FIELD} } }`;
    const body = JSON.stringify({ query });
    const post = async (url: string, t: string) =>
      (await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${t}` }, body })).json();
    if (JSON.stringify(await post(local.url, local.token)) !== JSON.stringify(await post(remote.url, remote.token))) {
      throw new Error(`${scenario.name}: the local store and the upstream answer differently`);
    }
    const run = async (gw: typeof local, withUpstream: boolean) => {
      await load(gw.url, body, gw.token, scenario.connections, WARMUP);
      const cpu0 = cpuSeconds(gw.process);
      const up0 = cpuSeconds(upstreamProcess);
      const sent0 = await metric(gw.url, 'consentry_source_requests_total');
      const r = await load(gw.url, body, gw.token, scenario.connections, DURATION);
      if (r.non2xx || r.errors) throw new Error(`${scenario.name}: non-2xx or errors (${r.non2xx}/${r.errors})`);
      const sent = (await metric(gw.url, 'consentry_source_requests_total')) - sent0;
      return {
        rps: r.requests.average,
        p50: r.latency.p50,
        p99: r.latency.p99,
        cpu: (cpuSeconds(gw.process) - cpu0) / r.requests.total,
        upstreamCpu: withUpstream ? (cpuSeconds(upstreamProcess) - up0) / r.requests.total : 0,
        fetchesPerRequest: sent / r.requests.total,
      };
    };
    const l = await run(local, false);
    const u = await run(remote, true);
    rows.push({
      scenario: scenario.name,
      connections: scenario.connections,
      'local rps': Math.round(l.rps),
      'upstream rps': Math.round(u.rps),
      'rps ratio': +(u.rps / l.rps).toFixed(2),
      'local p50 ms': l.p50,
      'upstream p50 ms': u.p50,
      'local p99 ms': l.p99,
      'upstream p99 ms': u.p99,
      'gateway CPU ms/req local → upstream': `${(l.cpu * 1000).toFixed(2)} → ${(u.cpu * 1000).toFixed(2)}`,
      'upstream service CPU ms/req': +(u.upstreamCpu * 1000).toFixed(2),
      'upstream requests/partner request': +u.fetchesPerRequest.toFixed(2),
    });
    process.stdout.write(`${scenario.name}: done\n`);
  }
  return rows;
}

async function main() {
  const dbName = `consentry_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${dbName}`;
  const children: ChildProcess[] = [];
  try {
    const [cPort, bPort] = [await freePort(), await freePort()];
    const consentryUrl = `http://127.0.0.1:${cPort}`;
    const bareUrl = `http://127.0.0.1:${bPort}`;

    process.stdout.write('seeding 1,000 subjects and their consents on PostgreSQL...\n');
    const config = loadConfig({ DATABASE_URL: dbUrl.toString(), CONSENTRY_ISSUER: consentryUrl, LOG_LEVEL: 'silent', NODE_ENV: 'test' });
    const services = await createServices(config);
    const subjects = benchSubjects(1000);
    await upsertScoreSummaries(services.db, subjects);
    const partner = await createTestPartner(services, { scopes: ALL_CATEGORIES, purposes: ['credit_underwriting'] });
    for (let i = 0; i < subjects.length; i += 25) {
      await Promise.all(subjects.slice(i, i + 25).map((s) => consentTo(services, s.subjectId, partner.id, 'credit_underwriting', ALL_CATEGORIES, 365)));
    }
    await services.db.close();

    const consentryProcess = await start([CONSENTRY, 'serve', '--no-demo'], gatewayEnv(dbUrl.toString(), cPort, consentryUrl), 'listening', PROFILE_FLAGS);
    const bareProcess = await start(['bench/bareApollo.ts'], { PORT: String(bPort) }, 'ready');
    const tPortTypical = await freePort();
    const typicalUrl = `http://127.0.0.1:${tPortTypical}`;
    const typicalProcess = await start(
      ['bench/typicalImplementation.ts'],
      { PORT: String(tPortTypical), DATABASE_URL: dbUrl.toString(), JWKS_URL: `${consentryUrl}/.well-known/jwks.json`, ISSUER: consentryUrl },
      'ready',
    );
    children.push(consentryProcess, bareProcess, typicalProcess);

    const rows: Record<string, string | number>[] = [];
    const only = process.env.BENCH_ONLY;
    for (const scenario of SCENARIOS.filter((s) => (!only && s.subjects > 0) || s.name.startsWith(`(${only})`))) {
      if (scenario.subjects === 0) continue;
      const ids = subjects.slice(0, scenario.subjects).map((s) => s.subjectId);
      const query =
        scenario.subjects === 1
          ? `{ subject(id: "${ids[0]}", purpose: "credit_underwriting") { ${EVERY_FIELD} } }`
          : `{ subjects(ids: ${JSON.stringify(ids)}, purpose: "credit_underwriting") { ${EVERY_FIELD} } }`;
      const body = JSON.stringify({ query });
      const token = await partnerToken(consentryUrl, partner);

      // Same answer from both, or the comparison means nothing.
      const post = async (url: string, t?: string) =>
        (await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...(t ? { authorization: `Bearer ${t}` } : {}) }, body })).json();
      const [fromBare, fromConsentry, fromTypical] = [await post(bareUrl), await post(consentryUrl, token), await post(typicalUrl, token)];
      if (JSON.stringify(fromBare) !== JSON.stringify(fromConsentry)) throw new Error(`${scenario.name}: responses differ`);
      if (JSON.stringify(fromTypical) !== JSON.stringify(fromConsentry)) throw new Error(`${scenario.name}: the typical implementation answers differently`);
      const rtBefore = await roundTrips(consentryUrl);
      await post(consentryUrl, token);
      const rtSingle = (await roundTrips(consentryUrl)) - rtBefore;

      // The three servers take turns, in rounds (bare, Consentry, typical, then the other way round), so a
      // machine whose speed drifts during the run weighs on all three alike.
      const servers = {
        bare: { url: bareUrl, token: undefined, process: bareProcess, postgres: false },
        consentry: { url: consentryUrl, token, process: consentryProcess, postgres: true },
        typical: { url: typicalUrl, token, process: typicalProcess, postgres: true },
      };
      const measured = { bare: emptyMeasure(), consentry: emptyMeasure(), typical: emptyMeasure() };
      for (const server of Object.values(servers)) await load(server.url, body, server.token, scenario.connections, WARMUP);
      const rt0 = await roundTrips(consentryUrl);
      for (let round = 0; round < ROUNDS; round++) {
        const order = (['bare', 'consentry', 'typical'] as const).slice();
        if (round % 2) order.reverse();
        for (const name of order) {
          const server = servers[name];
          const cpu0 = cpuSeconds(server.process);
          const pg0 = postgresCpuSeconds();
          const r = await load(server.url, body, server.token, scenario.connections, DURATION / ROUNDS, measured[name].latencies);
          addMeasure(measured[name], r, cpuSeconds(server.process) - cpu0, server.postgres ? postgresCpuSeconds() - pg0 : 0);
        }
      }
      const [bare, full, typical] = [measured.bare, measured.consentry, measured.typical];
      const rtLoaded = ((await roundTrips(consentryUrl)) - rt0) / Math.max(1, full.requests);
      const bareCpu = bare.cpu / bare.requests;
      const fullCpu = full.cpu / full.requests;
      const pgCpu = full.postgresCpu / full.requests;
      const typicalCpu = typical.cpu / typical.requests;
      const typicalPgCpu = typical.postgresCpu / typical.requests;
      if (typical.non2xx || typical.errors) throw new Error(`${scenario.name}: the typical implementation had non-2xx or errors`);
      if (bare.non2xx || full.non2xx || bare.errors || full.errors) {
        throw new Error(`${scenario.name}: non-2xx or errors (bare ${bare.non2xx}/${bare.errors}, consentry ${full.non2xx}/${full.errors})`);
      }
      rows.push({
        scenario: scenario.name,
        connections: scenario.connections,
        'bare rps': Math.round(rps(bare)),
        'consentry rps': Math.round(rps(full)),
        'rps ratio': +(rps(full) / rps(bare)).toFixed(2),
        'bare p50 ms': p50(bare),
        'consentry p50 ms': p50(full),
        'bare p99 ms': p99(bare),
        'consentry p99 ms': p99(full),
        'p99 ratio': +(p99(full) / p99(bare)).toFixed(2),
        'bare CPU ms/req': +(bareCpu * 1000).toFixed(3),
        'consentry CPU ms/req': +(fullCpu * 1000).toFixed(3),
        'PostgreSQL CPU ms/req': +(pgCpu * 1000).toFixed(3),
        'round trips (one request)': rtSingle,
        'round trips/request under load': +rtLoaded.toFixed(2),
        'typical rps': Math.round(rps(typical)),
        'consentry/typical rps': +(rps(full) / rps(typical)).toFixed(2),
        'typical p99 ms': p99(typical),
        'typical CPU ms/req': +(typicalCpu * 1000).toFixed(3),
        'typical PostgreSQL CPU ms/req': +(typicalPgCpu * 1000).toFixed(3),
      });
      process.stdout.write(`${scenario.name}: done\n`);
    }
    console.table(rows);
    if (!only || only === 'e') {
      const [tPort, sinkPort] = [await freePort(), await freePort()];
      const sink = await startOtlpSink(sinkPort);
      const tracedUrl = `http://127.0.0.1:${tPort}`;
      const traced = await start([CONSENTRY, 'serve', '--no-demo'], {
        ...gatewayEnv(dbUrl.toString(), tPort, tracedUrl),
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sinkPort}`,
      }, 'listening');
      children.push(traced);
      const body = JSON.stringify({ query: `{ subject(id: "${subjects[0]!.subjectId}", purpose: "credit_underwriting") { ${EVERY_FIELD} } }` });
      // Each process is its own issuer (audience), so each gets its own token.
      const rowsE = await tracingOverhead(
        { url: consentryUrl, child: consentryProcess, token: await partnerToken(consentryUrl, partner) },
        { url: tracedUrl, child: traced, token: await partnerToken(tracedUrl, partner) },
        body,
        16,
      );
      process.stdout.write(`(e) OTLP exports received by the sink: ${sink.exports()}\n`);
      sink.server.close();
      console.table(rowsE);
      rows.push(...rowsE);
    }
    if (!only || only === 'u') {
      const [uPort, gPort] = [await freePort(), await freePort()];
      const upstreamService = await start(['bench/upstreamService.ts'], { PORT: String(uPort) }, 'ready');
      const remoteUrl = `http://127.0.0.1:${gPort}`;
      const remoteProcess = await start([CONSENTRY, 'serve', '--no-demo'], {
        DATABASE_URL: dbUrl.toString(),
        PORT: String(gPort),
        CONSENTRY_ISSUER: remoteUrl,
        NODE_ENV: 'production',
        LOG_LEVEL: 'warn',
        CONSENTRY_RATE_LIMIT: '10000000',
        CONSENTRY_METRICS_TOKEN: METRICS_TOKEN,
        CONSENTRY_SCORE_SOURCE: 'upstream',
        CONSENTRY_UPSTREAM_URL: `http://127.0.0.1:${uPort}/graphql`,
        CONSENTRY_UPSTREAM_TOKEN: UPSTREAM_TOKEN,
      }, 'listening');
      children.push(upstreamService, remoteProcess);
      const upstreamRows = await upstreamComparison(
        { url: consentryUrl, process: consentryProcess, token: await partnerToken(consentryUrl, partner) },
        { url: remoteUrl, process: remoteProcess, token: await partnerToken(remoteUrl, partner) },
        upstreamService,
        subjects.map((s) => s.subjectId),
      );
      console.table(upstreamRows);
      rows.push(...upstreamRows);
    }
    if (!only || only === 'd') {
      const attack = await underAttack(consentryUrl, await partnerToken(consentryUrl, partner), subjects[0]!.subjectId);
      console.table(attack);
      rows.push(...attack);
    }
    mkdirSync('bench/results', { recursive: true });
    writeFileSync('bench/results/latest.json', JSON.stringify({ at: new Date().toISOString(), durationSeconds: DURATION, rows }, null, 2));
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  }
}

await main();
