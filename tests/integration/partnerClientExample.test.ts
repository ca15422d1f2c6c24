import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessToken, readCredentials } from '../../examples/partner-client/src/accessToken.js';
import { runCli } from '../fixtures/cli.js';
import { createPostgresDatabase, postgresEnv } from '../fixtures/postgres.js';
import { startServe, type ServeProcess } from '../fixtures/serveProcess.js';

const run = promisify(execFile);
const EXAMPLE = resolve('examples/partner-client');
const BIN = resolve('node_modules/.bin');
/** The example resolves its tools and jose from the repository's own node_modules: no install of its own, works offline. */
const inExample = (file: string, args: string[], env: Record<string, string> = {}) =>
  run(file, args, { cwd: EXAMPLE, env: { ...process.env, ...env }, timeout: 180_000 });

describe('the typed partner client example, end to end', () => {
  let serve: ServeProcess;
  let dropDatabase: () => Promise<void>;
  let demoDir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    const pg = await createPostgresDatabase();
    dropDatabase = pg.drop;
    demoDir = await mkdtemp(join(tmpdir(), 'consentry-example-'));
    env = { ...postgresEnv(pg.url), CONSENTRY_DEMO_DIR: demoDir };
    // With demo data: the example is Swift Wheels asking about demo-subject-1 for a deposit waiver.
    serve = await startServe(env, []);
  }, 180_000);
  afterAll(async () => {
    await serve?.stop();
    await dropDatabase?.();
    await rm(demoDir, { recursive: true, force: true });
  });

  it('generates what is committed, compiles, registers its manifest, and runs trusted-documents-only', async () => {
    // The committed generated client and manifest are what the published schema and the operations produce today.
    await inExample(join(BIN, 'graphql-codegen'), ['--config', 'codegen.ts', '--check']);
    await inExample(join(BIN, 'tsc'), ['-p', 'tsconfig.json']);

    const manifest = join(EXAMPLE, 'src/gql/persisted-documents.json');
    const [hash] = Object.keys(JSON.parse(await readFile(manifest, 'utf8')) as Record<string, string>);
    const added = await runCli(['partner', 'documents', 'add', 'p_demo_swift_wheels', '--manifest', manifest, '--json'], { ...env, CONSENTRY_ISSUER: serve.url });
    expect({ code: added.code, stderr: added.stderr, out: JSON.parse(added.stdout || '{}') }).toEqual({
      code: 0,
      stderr: '',
      out: {
        partnerId: 'p_demo_swift_wheels',
        added: [{ hash: hash!.replace(/^sha256:/, ''), operations: ['DepositWaiverCheck'] }],
        alreadyRegistered: [],
        registered: 1,
        trustedDocumentsOnly: false,
      },
    });
    const trusted = await runCli(['partner', 'update', 'p_demo_swift_wheels', '--trusted-documents-only', '--json'], { ...env, CONSENTRY_ISSUER: serve.url });
    expect(trusted.code).toBe(0);

    const example = await inExample(process.execPath, ['dist/main.js'], { CONSENTRY_URL: serve.url, PARTNER_DIR: join(demoDir, 'swift-wheels-car-rental') });
    expect(example.stderr).toBe('');
    expect(example.stdout).toMatch(/^demo-subject-1: score at least 650: yes, waive the deposit \(score as of \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\)\n$/);

    // Anything else from this partner is now refused, before any decision: only registered operations run.
    const token = await accessToken(serve.url, await readCredentials(join(demoDir, 'swift-wheels-car-rental')), 'score.threshold');
    const arbitrary = await fetch(`${serve.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ subject(id: "demo-subject-1", purpose: "deposit_waiver") { score { atLeast(threshold: 700) } } }' }),
    });
    expect({ status: arbitrary.status, body: await arbitrary.json() }).toEqual({
      status: 400,
      body: { errors: [{ message: 'This partner runs registered operations only: send the documentId of one (see GET /docs/partners).', extensions: { code: 'DOCUMENT_NOT_TRUSTED' } }] },
    });
  }, 300_000);
});
