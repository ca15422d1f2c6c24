import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CLI_ENTRY as ENTRY } from '../fixtures/build.js';
import { freePort } from '../fixtures/ports.js';

/** The `consentry serve` process npm started (directly or through a shell). */
async function serverPid(npmPid: number): Promise<number> {
  const { stdout } = await promisify(execFile)('ps', ['-A', '-o', 'pid=,ppid=,args=']);
  const processes = stdout
    .trim()
    .split('\n')
    .map((line) => line.trim().match(/^(\d+)\s+(\d+)\s+(.*)$/)!)
    .map(([, pid, ppid, args]) => ({ pid: Number(pid), ppid: Number(ppid), args: args! }));
  const descendants = new Set([npmPid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of processes) if (descendants.has(p.ppid) && !descendants.has(p.pid)) descendants.add(p.pid), (grew = true);
  }
  // Not the `sh -c` npm may run it through: a shell killed by SIGTERM would orphan the server.
  const server = processes.find((p) => descendants.has(p.pid) && p.args.includes(`${ENTRY} serve`) && !/\bsh -c\b/.test(p.args));
  if (!server) throw new Error('the server process npm started was not found');
  return server.pid;
}

/** The README's start command, `npm start`, on a fresh embedded database: it must come up with demo data and stop cleanly. */
describe('npm start (the README start command)', () => {
  let dir: string;
  let port: number;
  let child: ChildProcess;
  let output = '';
  let exited: Promise<number | null>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'consentry-start-'));
    port = await freePort();
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !['DATABASE_URL', 'NODE_ENV', 'CONSENTRY_ISSUER'].includes(k)));
    child = spawn('npm', ['start'], {
      env: { ...env, PORT: String(port), CONSENTRY_DATA_DIR: join(dir, 'data'), CONSENTRY_DEMO_DIR: join(dir, 'demo'), LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so cleanup can stop npm, the shell and the server together.
      detached: true,
    });
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`npm start did not come up:\n${output}`)), 120_000);
      const check = () => {
        if (output.includes('Consentry listening on')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', check);
      void exited.then((code) => reject(new Error(`npm start exited with ${code}:\n${output}`)));
    });
  }, 400_000);

  afterAll(async () => {
    if (child?.pid && child.exitCode === null && child.signalCode === null) process.kill(-child.pid, 'SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const url = (path: string) => `http://127.0.0.1:${port}${path}`;

  it('says where it listens and where the demo credentials are', () => {
    expect(output).toMatch(new RegExp(`Consentry listening on http://localhost:${port} \\(pglite, ready in \\d+ ms\\)`));
    expect(output).toContain(`Demo data seeded; partner keys and example requests are in ${join(dir, 'demo')}`);
  });

  it('answers /healthz and publishes a signing key', async () => {
    expect((await fetch(url('/healthz'))).status).toBe(200);
    const jwks = (await (await fetch(url('/.well-known/jwks.json'))).json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys.length).toBeGreaterThanOrEqual(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', alg: 'ES256' });
  });

  it('gives a demo partner a token for its private key, and answers its query', async () => {
    const folder = join(dir, 'demo', 'swift-wheels-car-rental');
    const partner = JSON.parse(await readFile(join(folder, 'partner.json'), 'utf8'));
    const key = await importJWK(JSON.parse(await readFile(join(folder, 'private-key.json'), 'utf8')), 'ES256');
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: partner.kid })
      .setIssuer(partner.clientId)
      .setSubject(partner.clientId)
      .setAudience(partner.tokenEndpoint)
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .setJti(randomUUID())
      .sign(key);
    const tokenRes = await fetch(url('/oauth/token'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
      }),
    });
    const token = (await tokenRes.json()) as Record<string, unknown>;
    expect(tokenRes.status).toBe(200);
    expect(token).toMatchObject({ token_type: 'Bearer', scope: 'score.threshold' });

    const gql = await fetch(url('/graphql'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token.access_token}` },
      body: JSON.stringify({
        query: 'query($id: ID!) { subject(id: $id, purpose: "deposit_waiver") { score { atLeast(threshold: 650) } } }',
        variables: { id: 'demo-subject-1' },
      }),
    });
    expect(await gql.json()).toEqual({ data: { subject: { score: { atLeast: true } } } });
  });

  it('stops gracefully on SIGTERM with exit code 0', async () => {
    // The server, not npm, is what a supervisor stops; npm then exits with the server's code.
    const server = await serverPid(child.pid!);
    process.kill(server, 'SIGTERM');
    expect(await exited).toBe(0);
  }, 30_000);
});
