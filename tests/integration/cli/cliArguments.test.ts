import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_ENTRY } from '../../fixtures/build.js';
import { createCliStore, runCli, type CliStore } from '../../fixtures/cli.js';

/** Operator mistakes: each ends with a clear message on stderr, no stack trace, and a non-zero exit. */
describe.concurrent('consentry command-line errors', { timeout: 90_000 }, () => {
  let dir: string;
  let store: CliStore;
  let publicJwks: string;
  let privateJwks: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'consentry-args-'));
    store = await createCliStore('postgres');
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    publicJwks = join(dir, 'public.json');
    privateJwks = join(dir, 'private.json');
    await writeFile(publicJwks, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1' }] }));
    await writeFile(privateJwks, JSON.stringify({ keys: [{ ...(await exportJWK(privateKey)), kid: 'k1' }] }));
  });
  afterAll(async () => {
    await store?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  const expectNoStack = (stderr: string) => expect(stderr).not.toMatch(/\n\s+at /);

  it('an unknown command: exit 2 and the help', async () => {
    const r = await runCli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: unknown command 'frobnicate'");
    expect(r.stderr).toContain('Usage: consentry');
  });

  it('a missing required option: exit 2, naming the option', async () => {
    const r = await runCli(['partner', 'create', '--name', 'Acme', '--industry', 'car_rental', '--scopes', 'score.band', '--purposes', 'post_pay']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: required option '--jwks <file>' not specified");
  });

  it('a bad --ttl: exit 2 with the accepted forms', async () => {
    const r = await runCli(['token', '--role', 'subject', '--ttl', '90x'], store.env);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toBe('error: --ttl must be a number followed by s, m, h or d (e.g. 30s, 15m, 2h, 7d), got "90x"\n');
  });

  it('a --ttl over 30 days: exit 2', async () => {
    const r = await runCli(['token', '--role', 'admin', '--ttl', '31d'], store.env);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: --ttl must be at most 30d, got "31d"\n');
  });

  it('an unknown role: exit 2 with the choices', async () => {
    const r = await runCli(['token', '--role', 'root']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: option '--role <role>' argument 'root' is invalid. Allowed choices are subject, compliance, admin.");
  });

  it('token in production: refused, exit 1', async () => {
    const r = await runCli(['token', '--role', 'subject'], { ...store.env, NODE_ENV: 'production', CONSENTRY_ISSUER: 'https://consentry.example' });
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toBe('error: consentry token is disabled when NODE_ENV=production; sign in through a trusted issuer instead.\n');
  });

  it('token in production with --json: the error as JSON on stderr', async () => {
    const r = await runCli(['token', '--role', 'subject', '--json'], { ...store.env, NODE_ENV: 'production', CONSENTRY_ISSUER: 'https://consentry.example' });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stderr)).toEqual({
      error: { code: 'FORBIDDEN', message: 'consentry token is disabled when NODE_ENV=production; sign in through a trusted issuer instead.' },
    });
  });

  it('an unknown --scopes value: exit 1 listing the known categories', async () => {
    const r = await runCli(
      ['partner', 'create', '--name', 'Acme', '--industry', 'car_rental', '--scopes', 'score.band,score.everything', '--purposes', 'post_pay', '--jwks', publicJwks],
      store.env,
    );
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toBe(
      'error: Unknown scope(s): score.everything. Known categories: score.threshold, score.band, score.value, score.dimensions, score.factors, score.history, identity.verified.\n',
    );
  });

  it('a JWKS file holding a private key: refused before anything is stored', async () => {
    const r = await runCli(
      ['partner', 'create', '--name', 'Acme', '--industry', 'car_rental', '--scopes', 'score.band', '--purposes', 'post_pay', '--jwks', privateJwks],
      store.env,
    );
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toBe(
      'error: The JWKS is not acceptable: key 1 (k1): holds private key material (d); register only the public key, and treat this private key as exposed.\n',
    );
    expect(await store.withDb((db) => db.query('SELECT id FROM partners'))).toEqual([]);
  });

  it('--suspend with --activate: exit 2', async () => {
    const r = await runCli(['partner', 'update', 'p_any', '--suspend', '--activate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: option '--suspend' cannot be used with option '--activate'");
  });

  it('an update with nothing to change: exit 2', async () => {
    const r = await runCli(['partner', 'update', 'p_any'], store.env);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'error: nothing to change: give at least one of --name, --contact, --scopes, --purposes, --jwks, --redirect-uris, --dpop, --suspend, --activate, --trusted-documents-only, --allow-any-documents\n',
    );
  });

  it('an unknown partner: exit 1', async () => {
    const r = await runCli(['partner', 'update', 'p_nobody', '--suspend'], store.env);
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: 'error: No partner with id p_nobody.\n' });
  });

  it('a broken DATABASE_URL: the configuration problem, exit 1', async () => {
    const r = await runCli(['migrate'], { DATABASE_URL: 'mysql://x' });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: Invalid configuration:\n  DATABASE_URL must be a postgres:// or postgresql:// URL\n');
    expectNoStack(r.stderr);
  });
});

/** npx and an installed package run the bin file itself, not through node: the build must leave it executable, whatever npm linked before. */
describe('the built consentry command', () => {
  it('runs by itself, as npx and an installed bin run it', async () => {
    const { stdout } = await promisify(execFile)(resolve(CLI_ENTRY), ['--version'], { timeout: 30_000 });
    expect(stdout.trim()).toBe(JSON.parse(await readFile('package.json', 'utf8')).version);
  });
});
