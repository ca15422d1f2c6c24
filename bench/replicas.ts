/**
 * `npm run bench:replicas` (also run by `npm run bench`): 1, 2 and 4 gateway
 * processes on one PostgreSQL database, with the same total client
 * concurrency split across them (at 16 and at 64 connections in all, see
 * CONNECTION_LOADS) and consent writes running alongside (grants
 * and revocations that append to the audit chain inside their transactions,
 * as another writer). Reports total throughput, p99, 503s, audit append
 * statements sent per append committed, and where the CPU went (the gateways,
 * PostgreSQL, this process: load generator and consent writer, and the
 * machine's idle share), side by side in one run. Two controls follow: the
 * typical implementation of bench/run.ts (PostgreSQL per request, no audit
 * chain) and the bare Apollo Server, split across processes the same way.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { revokeConsent } from '../src/consent/revokeConsent.js';
import { loadConfig } from '../src/config.js';
import { createServices } from '../src/services.js';
import { upsertScoreSummaries } from '../src/store/scoreSummaries.js';
import { clientAssertion, createTestPartner, requestToken } from '../tests/fixtures/gateway.js';
import { freePort } from '../tests/fixtures/ports.js';
import { consentTo } from '../tests/fixtures/subjects.js';
import { cpuSeconds, machineCpuSeconds, postgresCpuSeconds } from './cpu.js';
import { benchSubjects } from './data.js';
import { chooseLoadGenerator, describeLoadGenerator, runLoad, type LoadGenerator, type LoadResult } from './load.js';
import { CONSENTRY, PROFILE_FLAGS, start, stop } from './processes.js';

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const DURATION = Number(process.env.BENCH_SECONDS ?? 16);
/**
 * Turns each replica count takes per load, sharing DURATION (see replicaRows). Four: in a run with two,
 * a slow spell during one replica's turns made four replicas look 1.22 times as fast as one.
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const WARMUP = 6;
/** BENCH_WRITER=0: no consent writes alongside (the partner reads alone). */
const WRITER = process.env.BENCH_WRITER !== '0';
/**
 * Consent writes per second alongside the reads (BENCH_WRITES; `max`: one writer as fast as it goes). A fixed
 * rate, so that every replica count serves the same writes: as fast as it went, the writer made 2,000 writes
 * beside one replica and 1,000 beside two in the same time (1.5 and 0.8 per partner read), so each count was
 * measured on another mix, and the writer took a sixth of the machine's CPU. 40 a second (20 grants and 20
 * revocations) is about what it still reaches beside four replicas.
 */
const WRITES_PER_SECOND = process.env.BENCH_WRITES === 'max' ? Infinity : Number(process.env.BENCH_WRITES ?? 40);
if (!(WRITES_PER_SECOND > 0)) throw new Error(`BENCH_WRITES must be a positive number or max (BENCH_WRITER=0 leaves the writes out)`);
/**
 * Total client connections, split across the processes. Two loads by default: 16, where one replica
 * still has idle cores beside it (its requests wait on its own group commit), and 64, where one
 * replica's event loop is the limit: the case scaling out is for.
 */
const CONNECTION_LOADS = (process.env.BENCH_CONNECTIONS ?? '16,64').split(',').map(Number);
const REPLICAS = (process.env.BENCH_REPLICAS ?? '1,2,4').split(',').map(Number);
const ISSUER = 'http://consentry.bench';
const METRICS_TOKEN = randomBytes(24).toString('hex');
const QUERY = JSON.stringify({ query: '{ subject(id: "bench-7", purpose: "credit_underwriting") { score { atLeast(threshold: 650) band } } }' });

/** Set in main: wrk where installed, else autocannon (see bench/load.ts). */
let generator: LoadGenerator;

function headers(token: string | undefined): Record<string, string> {
  return { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
}

/** The query on `connections` connections to each of `urls` for `seconds`, all at once. */
function load(urls: string[], token: string | undefined, connections: number, seconds: number): Promise<LoadResult[]> {
  return Promise.all(urls.map((u) => runLoad(generator, { url: `${u}/graphql`, connections, seconds, headers: headers(token), body: QUERY })));
}

/** What serves the partner requests: Consentry's replicas, or the typical implementation's processes (the control). */
type Server = 'consentry' | 'typical';
/** How a table names its process count, and how its ratios are labelled. */
const COUNT_COLUMN: Record<Server, string> = { consentry: 'replicas', typical: 'typical processes' };
const RATIO_LABEL: Record<Server, string> = { consentry: '', typical: 'typical: ' };

function serve(port: number, env: Record<string, string>): Promise<ChildProcess> {
  return start([CONSENTRY, 'serve', '--no-demo'], { ...env, PORT: String(port) }, 'listening', PROFILE_FLAGS);
}

/**
 * The typical implementation of bench/run.ts on the same database: two
 * queries and one audit row inserted per request, no chain and no group
 * commit. It checks the tokens Consentry issued against Consentry's JWKS.
 */
function serveTypical(port: number, env: Record<string, string>, issuerPort: number): Promise<ChildProcess> {
  return start(
    ['bench/typicalImplementation.ts'],
    { PORT: String(port), DATABASE_URL: env.DATABASE_URL!, JWKS_URL: `http://127.0.0.1:${issuerPort}/.well-known/jwks.json`, ISSUER },
    'ready',
  );
}

/**
 * The control: the bare Apollo Server of bench/run.ts (no database, no
 * decisions, no audit) in 1, 2 and 4 processes with the same split of the
 * same connections. What it loses going from one process to several, on
 * this machine, is what any Node.js server loses, not what the audit log costs.
 */
async function bareControl(connections: number): Promise<Record<string, string | number>[]> {
  const rows: Record<string, string | number>[] = [];
  for (const count of REPLICAS) {
    const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
    const servers = await Promise.all(ports.map((port) => start(['bench/bareApollo.ts'], { PORT: String(port) }, 'ready')));
    try {
      const perProcess = Math.max(1, Math.round(connections / count));
      const urls = ports.map((port) => `http://127.0.0.1:${port}`);
      await load(urls, undefined, perProcess, WARMUP * count);
      const cpu0 = servers.reduce((t, s) => t + cpuSeconds(s), 0);
      const results = await load(urls, undefined, perProcess, DURATION);
      const total = results.reduce((t, r) => t + r.requests, 0);
      rows.push({
        'bare processes': count,
        'connections (total)': perProcess * count,
        'rps (total)': Math.round(total / DURATION),
        'p99 ms (worst)': Math.max(...results.map((r) => r.p99Ms)),
        'CPU ms/req': +(((servers.reduce((t, s) => t + cpuSeconds(s), 0) - cpu0) / total) * 1000).toFixed(3),
      });
    } finally {
      await stop(servers);
    }
  }
  return rows;
}

interface StoreCounts {
  attempts: number;
  commits: number;
  /** Statements this replica sent to the database (a scrape of /metrics sends none). */
  roundTrips: number;
  /** Requests decided again from a fresh read: their facts changed before their audit append. */
  stale: number;
  /** Requests' audit appends: their number, and their time from submission to commit, group wait included. */
  appends: number;
  appendSeconds: number;
}

async function appendCounts(url: string): Promise<StoreCounts> {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  const read = (name: string) => Number(new RegExp(`^${name} ([\\d.e+-]+)`, 'm').exec(text)?.[1] ?? NaN);
  return {
    attempts: read('consentry_audit_append_attempts_total'),
    commits: read('consentry_audit_append_commits_total'),
    roundTrips: read('consentry_store_round_trips_total'),
    stale: read('consentry_decisions_stale_total'),
    appendSeconds: read('consentry_audit_append_duration_seconds_sum'),
    appends: read('consentry_audit_append_duration_seconds_count'),
  };
}

/** How much each counter grew, over all replicas. */
function grownBy(before: StoreCounts[], after: StoreCounts[]): StoreCounts {
  const grown = (key: keyof StoreCounts) => after.reduce((s, a, i) => s + a[key] - before[i]![key], 0);
  return {
    attempts: grown('attempts'),
    commits: grown('commits'),
    roundTrips: grown('roundTrips'),
    stale: grown('stale'),
    appends: grown('appends'),
    appendSeconds: grown('appendSeconds'),
  };
}

/**
 * The counters once the statements still in flight when the load stopped
 * have ended (a statement counts as attempted when sent, as committed when
 * answered), or after a second: then a gap is a real failed attempt.
 */
async function settledAppendCounts(urls: string[]): Promise<StoreCounts[]> {
  for (let deadline = Date.now() + 1000; ; await new Promise((r) => setTimeout(r, 50))) {
    const counts = await Promise.all(urls.map(appendCounts));
    if (counts.every((c) => c.attempts === c.commits) || Date.now() > deadline) return counts;
  }
}

interface Setup {
  env: Record<string, string>;
  services: Awaited<ReturnType<typeof createServices>>;
  partner: Awaited<ReturnType<typeof createTestPartner>>;
  subjects: ReturnType<typeof benchSubjects>;
  /** The query's answer, as the first server gave it; every other must give the same. */
  answer?: string;
}

/** What one measured stretch of load on `count` replicas added up to: the replicas' counters grew by StoreCounts. */
interface Totals extends StoreCounts {
  seconds: number;
  requests: number;
  p99: number;
  unavailable: number;
  otherFailures: number;
  consentWrites: number;
  serversCpu: number;
  postgresCpu: number;
  /** This process: the consent writer, and the load generator when it is autocannon. */
  benchCpu: number;
  /** wrk's processes (0 with autocannon, which runs in this process). */
  loadCpu: number;
  idle: number;
  busy: number;
}

/**
 * `count` processes of `server` sharing `connections` client connections for
 * `seconds`, with the consent writer alongside. For the typical
 * implementation, one Consentry process more issues the token and serves the
 * JWKS; it takes no partner requests and its CPU is not counted.
 */
async function measure(setup: Setup, server: Server, count: number, connections: number, seconds: number): Promise<Totals> {
  const { env, services, partner, subjects } = setup;
  const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
  const issuerPort = server === 'typical' ? await freePort() : ports[0]!;
  const issuer = server === 'typical' ? [await serve(issuerPort, env)] : [];
  const replicas = await Promise.all(ports.map((port) => (server === 'typical' ? serveTypical(port, env, issuerPort) : serve(port, env))));
  const urls = ports.map((p) => `http://127.0.0.1:${p}`);
  try {
    const { body } = await requestToken(`http://127.0.0.1:${issuerPort}`, {
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await clientAssertion(ISSUER, partner),
    });
    const token = body.access_token as string;
    for (const u of urls) await sameAnswer(u, token, setup);
    const perReplica = Math.max(1, Math.round(connections / count));
    // Each replica warms up first (JIT, lazily built schemas, pool connections): the rows compare steady states.
    // Each is a fresh process and gets a share of the load, so each warms up for as many requests as one
    // replica alone would (WARMUP seconds per replica): with 2 s for all, the replicas of the larger counts were
    // still warming up when measured, at up to half as much CPU again per request.
    await load(urls, token, perReplica, WARMUP * count);
    // The typical implementation has no audit chain, hence no append counters.
    const before = server === 'consentry' ? await settledAppendCounts(urls) : [];
    // Consent writes alongside: grant then revoke, over and over, through their own audited transactions, each
    // pair at its time (one pair at a time: a writer that falls behind catches up back to back, and its count shows it).
    let writing = true;
    let consentWrites = 0;
    const writesStart = Date.now();
    const writer = (async () => {
      for (let i = 0; writing && WRITER; i++) {
        const due = writesStart + (i * 2 * 1000) / WRITES_PER_SECOND - Date.now();
        if (due > 0) await new Promise((r) => setTimeout(r, due));
        if (!writing) break;
        const s = subjects[20 + (i % 180)]!;
        const c = await consentTo(services, s.subjectId, partner.id, 'credit_underwriting', ['score.band'], 30);
        await revokeConsent({ ...services, issuer: ISSUER }, { consentId: c.id, actor: { type: 'operator', id: 'bench' }, channel: 'cli' });
        consentWrites += 2;
      }
    })();
    const cpu0 = { servers: replicas.reduce((t, r) => t + cpuSeconds(r), 0), postgres: postgresCpuSeconds(), bench: process.cpuUsage(), machine: machineCpuSeconds() };
    const results = await load(urls, token, perReplica, seconds);
    const benchUsage = process.cpuUsage(cpu0.bench);
    const machine = machineCpuSeconds();
    const totals = {
      serversCpu: replicas.reduce((t, r) => t + cpuSeconds(r), 0) - cpu0.servers,
      postgresCpu: postgresCpuSeconds() - cpu0.postgres,
      benchCpu: (benchUsage.user + benchUsage.system) / 1e6,
      loadCpu: results.reduce((t, r) => t + r.externalCpuSeconds, 0),
      idle: machine.idle - cpu0.machine.idle,
      busy: machine.busy - cpu0.machine.busy,
    };
    writing = false;
    await writer;
    const after = server === 'consentry' ? await settledAppendCounts(urls) : [];
    return {
      ...totals,
      seconds,
      requests: results.reduce((s, r) => s + r.requests, 0),
      p99: Math.max(...results.map((r) => r.p99Ms)),
      unavailable: results.reduce((s, r) => s + r.unavailable, 0),
      otherFailures: results.reduce((s, r) => s + r.otherFailures, 0),
      consentWrites,
      ...grownBy(before, after),
    };
  } finally {
    await stop([...replicas, ...issuer]);
  }
}

/** Both servers must answer the query alike, or comparing their throughput means nothing. */
async function sameAnswer(url: string, token: string, setup: Setup): Promise<void> {
  const answer = await (await fetch(`${url}/graphql`, { method: 'POST', headers: headers(token), body: QUERY })).text();
  setup.answer ??= answer;
  if (answer !== setup.answer) throw new Error(`${url} answers ${answer}, not ${setup.answer}`);
}

function sum(a: Totals | undefined, b: Totals): Totals {
  if (!a) return b;
  const out = { ...b };
  for (const key of Object.keys(b) as (keyof Totals)[]) out[key] = key === 'p99' ? Math.max(a.p99, b.p99) : a[key] + b[key];
  return out;
}

/**
 * 1, 2 and 4 replicas (REPLICAS) sharing `connections` client connections. The
 * counts take turns in rounds (ROUNDS, in alternating order), so a drift in
 * this machine's speed weighs on all of them alike; each row adds up its rounds.
 */
async function replicaRows(setup: Setup, server: Server, connections: number): Promise<Record<string, string | number>[]> {
  const totals = new Map<number, Totals>();
  /** Each count's requests per round: a round's counts ran back to back, so their ratio is spared slow drifts. */
  const byRound = new Map<number, number[]>(REPLICAS.map((count) => [count, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const count of round % 2 ? [...REPLICAS].reverse() : REPLICAS) {
      const measured = await measure(setup, server, count, connections, DURATION / ROUNDS);
      totals.set(count, sum(totals.get(count), measured));
      byRound.get(count)!.push(measured.requests);
      process.stdout.write(`${server}: ${count} process(es), ${connections} connections, round ${round + 1}: ${Math.round(measured.requests / measured.seconds)} rps\n`);
    }
  }
  return REPLICAS.map((count) => {
    const t = totals.get(count)!;
    const ratios = byRound.get(1) && byRound.get(count)!.map((requests, round) => requests / byRound.get(1)![round]!);
    const perRequest = (cpu: number) => +((cpu / t.requests) * 1000).toFixed(3);
    const appends = server === 'consentry' && t.commits;
    return {
      [COUNT_COLUMN[server]]: count,
      'connections (total)': Math.max(1, Math.round(connections / count)) * count,
      'rps (total)': Math.round(t.requests / t.seconds),
      'p99 ms (worst replica)': t.p99,
      '503s': t.unavailable,
      'other failures': t.otherFailures,
      'consent writes': t.consentWrites,
      'writes/s': +(t.consentWrites / t.seconds).toFixed(1),
      'append attempts / commit': appends ? (t.attempts / t.commits).toFixed(3) : 'n/a',
      'requests per append statement': appends ? +(t.requests / t.commits).toFixed(2) : 'n/a',
      'store round trips / request': appends ? +(t.roundTrips / t.requests).toFixed(3) : 'n/a',
      'decided again': appends ? t.stale : 'n/a',
      'audit append ms (mean)': appends ? +((t.appendSeconds * 1000) / t.appends).toFixed(1) : 'n/a',
      'servers CPU ms/req': perRequest(t.serversCpu),
      'PostgreSQL CPU ms/req': perRequest(t.postgresCpu),
      [generator === 'wrk' ? 'writer CPU ms/req' : 'load + writer CPU ms/req']: perRequest(t.benchCpu),
      ...(generator === 'wrk' && { 'wrk CPU ms/req': perRequest(t.loadCpu) }),
      'machine idle': `${((t.idle / (t.idle + t.busy)) * 100).toFixed(0)} %`,
      ...(ratios && { [ROUND_RATIOS]: ratios.map((r) => r.toFixed(2)).join(' '), [MEDIAN_RATIO]: +median(ratios).toFixed(2) }),
    };
  });
}

/** Columns of the throughput against one process in each round, and their median. */
const ROUND_RATIOS = 'rps ÷ 1 process, by round';
const MEDIAN_RATIO = 'median ÷ 1';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Throughput against one process: over all rounds and, where measured in rounds, the median of the rounds' ratios. */
function printRatios(rows: Record<string, string | number>[], countKey: string, label: string): void {
  const one = rows.find((r) => r[countKey] === 1);
  for (const r of rows) {
    if (!one || r === one) continue;
    const byRound = r[MEDIAN_RATIO] === undefined ? '' : `; by round ${r[ROUND_RATIOS]}, median ${Number(r[MEDIAN_RATIO]).toFixed(2)}x`;
    console.log(`${label}${r[countKey]} / 1 at ${r['connections (total)']} connections: throughput ${(Number(r['rps (total)']) / Number(one['rps (total)'])).toFixed(2)}x${byRound}`);
  }
}

async function main() {
  generator = await chooseLoadGenerator();
  process.stdout.write(`load generator: ${describeLoadGenerator(generator)}\n`);
  const dbName = `consentry_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${dbName}`;
  const env = {
    DATABASE_URL: url.toString(),
    CONSENTRY_ISSUER: ISSUER,
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    CONSENTRY_RATE_LIMIT: '10000000',
    CONSENTRY_METRICS_TOKEN: METRICS_TOKEN,
  };
  const services = await createServices(loadConfig({ ...env, LOG_LEVEL: 'silent', NODE_ENV: 'test' }));
  const controls = process.env.BENCH_CONTROL !== '0';
  const tables: { server: Server; rows: Record<string, string | number>[] }[] = [];
  try {
    process.stdout.write('seeding 200 subjects and their consents...\n');
    const subjects = benchSubjects(200);
    await upsertScoreSummaries(services.db, subjects);
    const partner = await createTestPartner(services, { purposes: ['credit_underwriting'] });
    for (const s of subjects.slice(0, 20)) await consentTo(services, s.subjectId, partner.id, 'credit_underwriting', ['score.threshold', 'score.band'], 365);
    const setup: Setup = { env, services, partner, subjects };
    for (const server of controls ? (['consentry', 'typical'] as const) : (['consentry'] as const)) {
      for (const connections of CONNECTION_LOADS) tables.push({ server, rows: await replicaRows(setup, server, connections) });
    }
  } finally {
    await services.db.close();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  }
  for (const { server, rows } of tables) {
    console.table(rows);
    printRatios(rows, COUNT_COLUMN[server], RATIO_LABEL[server]);
  }
  if (controls) {
    for (const connections of CONNECTION_LOADS) {
      const control = await bareControl(connections);
      console.table(control);
      printRatios(control, 'bare processes', 'bare: ');
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
