import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCK_FILE } from '../../../src/store/embedded/ownerLock.js';
import { runCli } from '../../fixtures/cli.js';
import { graphql, partnerToken, type TestPartner } from '../../fixtures/gateway.js';
import { startServe, type ServeProcess } from '../../fixtures/serveProcess.js';

const QUERY = `{ subject(id: "emb-1", purpose: "deposit_waiver") { score { atLeast(threshold: 650) value } } }`;

/**
 * The embedded database has one owner: while `serve` runs, every command
 * reaches the running gateway's engine (and takes effect there at once);
 * nothing a command writes is lost when the gateway stops.
 */
describe('operator commands while serve runs on the embedded database', () => {
  let dir: string;
  let env: Record<string, string>;
  let gateway: ServeProcess | undefined;
  let partner: TestPartner;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'consentry-owner-'));
    env = { CONSENTRY_DATA_DIR: join(dir, 'data') };
    gateway = await startServe(env);
  }, 120_000);

  afterAll(async () => {
    await gateway?.stop('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  const cli = async (args: string[], input?: string) => {
    const r = await runCli(args, env, { input });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r.stdout;
  };

  it('a partner created by the CLI gets a token from the running gateway at once', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const kid = randomUUID();
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
    await writeFile(join(dir, 'jwks.json'), JSON.stringify({ keys: [publicJwk] }));
    const created = JSON.parse(
      await cli([
        'partner', 'create', '--name', 'Owner Test Rentals', '--industry', 'car_rental', '--scopes', 'score.threshold,score.value',
        '--purposes', 'deposit_waiver', '--jwks', join(dir, 'jwks.json'), '--json',
      ]),
    ) as { clientId: string };
    partner = { id: created.clientId, privateKey, publicJwk, kid };
    expect(await partnerToken(gateway!.url, partner)).toMatch(/^ey/);
  });

  it('imported scores and a granted consent are released on the next query', async () => {
    const token = await partnerToken(gateway!.url, partner);
    const before = await graphql(gateway!.url, token, QUERY);
    expect(before.body.data).toEqual({ subject: { score: { atLeast: null, value: null } } });
    expect(before.body.errors?.map((e) => e.extensions.code)).toEqual(['CONSENT_REQUIRED', 'CONSENT_REQUIRED']);

    const line = {
      subjectId: 'emb-1',
      value: 702,
      dimensions: { creditHistory: 70, behaviourPreferences: 60, fulfilmentCapacity: 55, identityTraits: 80, socialConnections: 40 },
      factors: [{ code: 'ON_TIME_PAYMENTS', description: 'No missed payments in the last 24 months' }],
      history: [{ month: '2026-10', value: 700 }],
      asOf: '2026-11-01T00:00:00Z',
      model: 'owner-test',
    };
    await writeFile(join(dir, 'scores.ndjson'), `${JSON.stringify(line)}\n`);
    await cli(['scores', 'import', join(dir, 'scores.ndjson'), '--json']);
    await cli(['consent', 'grant', '--subject', 'emb-1', '--partner', partner.id, '--purpose', 'deposit_waiver', '--categories', 'score.threshold,score.value', '--days', '30', '--json']);

    expect((await graphql(gateway!.url, token, QUERY)).body).toEqual({ data: { subject: { score: { atLeast: true, value: 702 } } } });
  });

  it('a key rotated by the CLI signs the next token', async () => {
    const { kid } = JSON.parse(await cli(['keys', 'rotate', '--json'])) as { kid: string };
    const token = await partnerToken(gateway!.url, partner);
    expect(decodeProtectedHeader(token).kid).toBe(kid);
    const checkpoint = JSON.parse(await cli(['audit', 'checkpoint', '--json'])) as { checkpoint: { kid: string } };
    expect(checkpoint.checkpoint.kid).toBe(kid);
  });

  it('a second serve on the same directory refuses, naming the owner and how to go elsewhere', async () => {
    const second = await startServe(env).then(
      () => {
        throw new Error('a second serve started on the same directory');
      },
      (err: Error) => err.message,
    );
    expect(second).toContain('exited with 1');
    expect(second).toContain(`already open by process ${gateway!.child.pid} (consentry serve`);
    expect(second).toContain('CONSENTRY_DATA_DIR');
    // The first one is unharmed.
    expect((await fetch(`${gateway!.url}/healthz`)).status).toBe(200);
  }, 120_000);

  it('everything the commands wrote survives a restart, and the chain verifies', async () => {
    expect(await gateway!.stop()).toBe(0);
    gateway = await startServe(env);
    const token = await partnerToken(gateway.url, partner);
    expect((await graphql(gateway.url, token, QUERY)).body.data).toEqual({ subject: { score: { atLeast: true, value: 702 } } });
    const verified = JSON.parse(await cli(['audit', 'verify', '--json'])) as { ok: boolean; eventsChecked: number; checkpointsChecked: number };
    expect(verified).toMatchObject({ ok: true, checkpointsChecked: 1 });
    // partner.changed, consent.granted, key.rotated, and the partner's read at the least.
    expect(verified.eventsChecked).toBeGreaterThanOrEqual(4);
  }, 120_000);

  it('after kill -9 of serve, the CLI opens the directory itself and the next serve starts', async () => {
    const killed = gateway!;
    expect(await killed.stop('SIGKILL')).toBe('SIGKILL');
    // The dead owner's lock is still there; it must be recognised as stale.
    expect(JSON.parse(await readFile(join(dir, 'data', LOCK_FILE), 'utf8'))).toMatchObject({ pid: killed.child.pid, command: 'serve' });

    const verified = JSON.parse(await cli(['audit', 'verify', '--json'])) as { ok: boolean };
    expect(verified.ok).toBe(true);
    gateway = await startServe(env);
    expect(await partnerToken(gateway.url, partner)).toMatch(/^ey/);
  }, 120_000);
});
