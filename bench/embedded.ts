/**
 * `npm run bench:embedded`: the embedded engine as a newcomer meets it.
 * Starts `consentry serve` (compiled) on a fresh data directory, reports its
 * cold start (migrate + demo seed + listen), then drives a demo partner's
 * query with autocannon. With BENCH_BASELINE_CLI=<another build's
 * dist/src/cli/main.js> the same is run against that build, alternating, so
 * the two are compared in one run on the same machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import { importJWK, SignJWT } from 'jose';
import { freePort } from '../tests/fixtures/ports.js';

const DURATION = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const QUERY = `query { subject(id: "demo-subject-1", purpose: "deposit_waiver") { id score { waiveDeposit: atLeast(threshold: 650) asOf } } }`;

interface Run {
  build: string;
  coldStartMs: number;
  /** From spawning the process to its listening line: what a person typing `npm start` waits (npm itself adds ~0.2 s). */
  wallMs: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
}

async function serve(cli: string, dir: string, port: number): Promise<{ child: ChildProcess; coldStartMs: number; wallMs: number }> {
  const { DATABASE_URL: _ignored, ...inherited } = process.env;
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [cli, 'serve', '--json'], {
    env: {
      ...inherited,
      CONSENTRY_DATA_DIR: join(dir, 'data'),
      CONSENTRY_DEMO_DIR: join(dir, 'demo'),
      PORT: String(port),
      CONSENTRY_ISSUER: `http://127.0.0.1:${port}`,
      LOG_LEVEL: 'warn',
      CONSENTRY_RATE_LIMIT: '10000000',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const coldStartMs = await new Promise<number>((ok, fail) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const m = /"coldStartMs": (\d+)/.exec(out);
      if (m) ok(Number(m[1]));
    });
    child.on('exit', (code) => fail(new Error(`serve exited with ${code}: ${out}`)));
  });
  return { child, coldStartMs, wallMs: Math.round(performance.now() - spawnedAt) };
}

async function demoToken(gateway: string, demoDir: string): Promise<string> {
  const folder = join(demoDir, 'swift-wheels-car-rental');
  const partner = JSON.parse(await readFile(join(folder, 'partner.json'), 'utf8')) as { clientId: string; kid: string };
  const key = await importJWK(JSON.parse(await readFile(join(folder, 'private-key.json'), 'utf8')), 'ES256');
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: partner.kid })
    .setIssuer(partner.clientId)
    .setSubject(partner.clientId)
    .setAudience(`${gateway}/oauth/token`)
    .setIssuedAt()
    .setExpirationTime('2m')
    .setJti(randomUUID())
    .sign(key);
  const res = await fetch(`${gateway}/oauth/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
      scope: 'score.threshold',
    }),
  });
  const body = (await res.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`no token: ${JSON.stringify(body)}`);
  return body.access_token;
}

async function measure(build: string, cli: string): Promise<Run> {
  const dir = await mkdtemp(join(tmpdir(), 'consentry-bench-'));
  const port = await freePort();
  const gateway = `http://127.0.0.1:${port}`;
  const { child, coldStartMs, wallMs } = await serve(cli, dir, port);
  try {
    const token = await demoToken(gateway, join(dir, 'demo'));
    const opts = {
      url: `${gateway}/graphql`,
      method: 'POST' as const,
      connections: CONNECTIONS,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: QUERY }),
    };
    await autocannon({ ...opts, duration: 2 });
    const r = await autocannon({ ...opts, duration: DURATION });
    return { build, coldStartMs, wallMs, rps: Math.round(r.requests.average), p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await rm(dir, { recursive: true, force: true });
  }
}

const builds: [string, string][] = [['this build', resolve('dist/src/cli/main.js')]];
if (process.env.BENCH_BASELINE_CLI) builds.push(['baseline', resolve(process.env.BENCH_BASELINE_CLI)]);
const runs: Run[] = [];
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, cli] of builds) runs.push(await measure(name, cli));
}
console.table(runs);
if (builds.length === 2) {
  const avg = (b: string, k: keyof Run) => runs.filter((r) => r.build === b).reduce((s, r) => s + Number(r[k]), 0) / ROUNDS;
  console.log(
    `this build / baseline: throughput ${(avg('this build', 'rps') / avg('baseline', 'rps')).toFixed(2)}x, ` +
      `p99 ${(avg('this build', 'p99') / avg('baseline', 'p99')).toFixed(2)}x, cold start ${(avg('this build', 'coldStartMs') / avg('baseline', 'coldStartMs')).toFixed(2)}x`,
  );
}
