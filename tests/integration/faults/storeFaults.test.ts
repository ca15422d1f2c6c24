import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { createServices } from '../../../src/services.js';
import { runCli } from '../../fixtures/cli.js';
import { clientAssertion, createTestPartner, requestToken, type TestPartner } from '../../fixtures/gateway.js';
import { ADMIN_URL, createPostgresDatabase, postgresEnv } from '../../fixtures/postgres.js';
import { startPrivateCluster, type PrivateCluster } from '../../fixtures/privateCluster.js';
import { startServe, type ServeProcess } from '../../fixtures/serveProcess.js';
import { consentTo, seedSubjects } from '../../fixtures/subjects.js';

/**
 * The gateway through database faults, as real processes: replicas keep
 * running, refuse with 503 while the store cannot decide and audit, and serve
 * again by themselves; nothing is released without its committed audit event.
 */
const ISSUER = 'http://consentry.test';
const QUERY = JSON.stringify({ query: '{ subject(id: "f-1", purpose: "credit_underwriting") { score { value } } }' });
/** Tight deadlines, so each scenario takes seconds. */
const DEADLINES = {
  DATABASE_STATEMENT_TIMEOUT_MS: '1000',
  DATABASE_LOCK_TIMEOUT_MS: '500',
  CONSENTRY_REQUEST_TIMEOUT_MS: '2000',
  CONSENTRY_SHUTDOWN_TIMEOUT_MS: '1500',
  DATABASE_CONNECT_TIMEOUT_MS: '1000',
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Outcome {
  startedAt: number;
  ms: number;
  status: number;
  released: boolean;
}

async function ask(url: string, token: string): Promise<Outcome> {
  const startedAt = Date.now();
  try {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: QUERY,
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await res.json()) as { data?: { subject?: { score?: { value?: number } } } };
    return { startedAt, ms: Date.now() - startedAt, status: res.status, released: body.data?.subject?.score?.value === 720 };
  } catch {
    return { startedAt, ms: Date.now() - startedAt, status: 0, released: false };
  }
}

/** Two requests at a time to each replica until `stop()`; every outcome is kept. */
function steadyLoad(urls: string[], token: string) {
  const outcomes: Outcome[] = [];
  let running = true;
  const workers = urls.flatMap((url) =>
    [0, 1].map(async () => {
      while (running) {
        outcomes.push(await ask(url, token));
        await sleep(10);
      }
    }),
  );
  return {
    outcomes,
    stop: async () => {
      running = false;
      await Promise.all(workers);
      return outcomes;
    },
  };
}

async function seed(env: Record<string, string>): Promise<TestPartner> {
  const services = await createServices(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', CONSENTRY_ISSUER: ISSUER, ...env }));
  try {
    const partner = await createTestPartner(services, { purposes: ['credit_underwriting'] });
    await seedSubjects(services, [['f-1', 720]]);
    await consentTo(services, 'f-1', partner.id, 'credit_underwriting', ['score.value']);
    return partner;
  } finally {
    await services.db.close();
  }
}

async function tokenFor(url: string, partner: TestPartner): Promise<string> {
  const { status, body } = await requestToken(url, {
    grant_type: 'client_credentials',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: await clientAssertion(ISSUER, partner),
  });
  if (status !== 200) throw new Error(`token: ${status} ${JSON.stringify(body)}`);
  return body.access_token as string;
}

const alive = (p: ServeProcess) => p.child.exitCode === null && p.child.signalCode === null;
const readyz = async (url: string) => (await fetch(`${url}/readyz`).catch(() => undefined))?.status ?? 0;

/** Every 200 carrying data was preceded by a committed access event: there are at least as many access events as releases. */
async function expectAuditCovers(url: string, outcomes: Outcome[], env: Record<string, string>): Promise<void> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_events WHERE kind = 'access' AND released ? 'score.value'");
  await db.end();
  expect(rows[0]!.n).toBeGreaterThanOrEqual(outcomes.filter((o) => o.released).length);
  const verified = await runCli(['audit', 'verify', '--json'], env);
  expect(verified.code).toBe(0);
  expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true });
}

describe('two replicas on PostgreSQL under database faults', () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let env: Record<string, string>;
  let replicas: ServeProcess[] = [];
  let partner: TestPartner;
  let token: string;
  let admin: pg.Client;

  beforeAll(async () => {
    database = await createPostgresDatabase();
    env = { ...postgresEnv(database.url), ...DEADLINES, CONSENTRY_ISSUER: ISSUER };
    partner = await seed(env);
    replicas = await Promise.all([startServe(env), startServe(env)]);
    token = await tokenFor(replicas[0]!.url, partner);
    admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
  }, 180_000);

  afterAll(async () => {
    await admin?.end();
    await Promise.all(replicas.map((r) => r.stop('SIGKILL')));
    await database?.drop();
  });

  it('backends terminated repeatedly under load: every replica stays up, failures are 503 only, recovery within 1 s', async () => {
    const load = steadyLoad(replicas.map((r) => r.url), token);
    await sleep(500);
    let lastKill = 0;
    for (let i = 0; i < 6; i++) {
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [database.name]);
      lastKill = Date.now();
      await sleep(300);
    }
    await sleep(2000);
    const outcomes = await load.stop();
    expect(replicas.every(alive)).toBe(true);
    expect(new Set(outcomes.map((o) => o.status))).toSatisfy((statuses: Set<number>) => [...statuses].every((s) => s === 200 || s === 503));
    const afterRecovery = outcomes.filter((o) => o.startedAt > lastKill + 1000);
    expect(afterRecovery.length).toBeGreaterThan(0);
    expect(afterRecovery.filter((o) => o.status !== 200)).toEqual([]);
    await expectAuditCovers(database.url, outcomes, env);
  }, 120_000);

  it('audit table locked past the deadline: 503 at the deadline, not when the lock goes', async () => {
    const locker = new pg.Client({ connectionString: database.url });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE audit_events IN ACCESS EXCLUSIVE MODE');
    const held = Date.now();
    const during = await Promise.all(replicas.map((r) => ask(r.url, token)));
    await sleep(Math.max(0, 4000 - (Date.now() - held)));
    await locker.query('COMMIT');
    await locker.end();
    for (const o of during) {
      expect(o).toMatchObject({ status: 503, released: false });
      // The lock was held for 4 s; the request deadline is 2 s.
      expect(o.ms).toBeLessThan(3000);
    }
    expect((await ask(replicas[0]!.url, token)).status).toBe(200);
  }, 60_000);

  it('audit inserts failing: 503 with nothing released, not ready, and ready again by itself', async () => {
    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    await db.query('ALTER TABLE audit_events ADD CONSTRAINT refuse_writes CHECK (false) NOT VALID');
    try {
      for (const r of replicas) expect(await ask(r.url, token)).toMatchObject({ status: 503, released: false });
      // Readiness probes the log itself: a replica that took no traffic knows too.
      for (const r of replicas) expect(await readyz(r.url)).toBe(503);
    } finally {
      await db.query('ALTER TABLE audit_events DROP CONSTRAINT refuse_writes');
      await db.end();
    }
    for (const r of replicas) expect(await readyz(r.url)).toBe(200);
    for (const r of replicas) expect(await ask(r.url, token)).toMatchObject({ status: 200, released: true });
  }, 60_000);

  it('SIGTERM while requests are stuck: exits within the shutdown deadline, non-zero', async () => {
    const patient = await startServe({ ...env, DATABASE_LOCK_TIMEOUT_MS: '60000', DATABASE_STATEMENT_TIMEOUT_MS: '60000', CONSENTRY_REQUEST_TIMEOUT_MS: '60000' });
    const locker = new pg.Client({ connectionString: database.url });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE audit_events IN ACCESS EXCLUSIVE MODE');
    try {
      const stuck = ask(patient.url, token);
      await sleep(500);
      const signalled = Date.now();
      const code = await patient.stop('SIGTERM');
      expect(code).toBe(1);
      expect(Date.now() - signalled).toBeLessThan(4000);
      expect((await stuck).released).toBe(false);
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
      await patient.stop('SIGKILL');
    }
  }, 120_000);
});

describe('a replica on a PostgreSQL server that stops and starts again', () => {
  let cluster: PrivateCluster;
  let replicas: ServeProcess[] = [];
  let env: Record<string, string>;
  let token: string;

  beforeAll(async () => {
    cluster = await startPrivateCluster();
    env = { DATABASE_URL: cluster.url, DATABASE_POOL_SIZE: '3', ...DEADLINES, CONSENTRY_ISSUER: ISSUER };
    const partner = await seed(env);
    replicas = await Promise.all([startServe(env), startServe(env)]);
    token = await tokenFor(replicas[0]!.url, partner);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop('SIGKILL')));
    await cluster?.destroy();
  });

  it('answers 503 while the server is down, is not ready within 1 s, and serves within 2 s of the restart', async () => {
    const load = steadyLoad(replicas.map((r) => r.url), token);
    await sleep(500);
    await cluster.stop('immediate');
    const stoppedAt = Date.now();
    await sleep(1000);
    for (const r of replicas) expect(await readyz(r.url)).toBe(503);
    await sleep(Math.max(0, 3000 - (Date.now() - stoppedAt)));
    // The server may accept connections a while before pg_ctl reports it (and this process notices): down ends when the start begins.
    const startingAt = Date.now();
    await cluster.start();
    const restartedAt = Date.now();
    await sleep(2000);
    const outcomes = await load.stop();
    expect(replicas.every(alive)).toBe(true);
    const down = outcomes.filter((o) => o.startedAt > stoppedAt + 200 && o.startedAt + o.ms < startingAt);
    expect(down.length).toBeGreaterThan(0);
    expect(down.filter((o) => o.status !== 503)).toEqual([]);
    const back = outcomes.filter((o) => o.startedAt > restartedAt + 2000 - 500);
    for (const r of replicas) expect(await readyz(r.url)).toBe(200);
    expect(back.filter((o) => o.status !== 200)).toEqual([]);
    for (const r of replicas) expect(await ask(r.url, token)).toMatchObject({ status: 200, released: true });
    await expectAuditCovers(cluster.url, outcomes, env);
  }, 120_000);
});
