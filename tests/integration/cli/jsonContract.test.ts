import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerCommands } from '../../../src/cli/commands.js';
import { leafCommands } from '../../../src/cli/examples.js';
import { createCliStore, runCli, type CliResult } from '../../fixtures/cli.js';

const ISO = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/);

/** A failure under --json: nothing on stdout, one JSON error line on stderr, the documented exit status. */
function expectJsonError(r: CliResult, exit: 1 | 2, code: string, message: string | RegExp = /./): void {
  expect({ exit: r.code, stdout: r.stdout, lines: r.stderr.trimEnd().split('\n').length }).toEqual({ exit, stdout: '', lines: 1 });
  const { error, ...rest } = JSON.parse(r.stderr);
  expect(rest).toEqual({});
  expect(error.code).toBe(code);
  expect(error.message).toMatch(message);
}

const leaves = (() => {
  const program = new Command('consentry');
  registerCommands(program);
  return [...leafCommands(program).keys()];
})();

describe('the --json contract', () => {
  it.concurrent.each([
    [['frobnicate'], "unknown command 'frobnicate'"],
    [['partner', 'list', '--bogus'], "unknown option '--bogus'"],
    [['partner', 'show'], "missing required argument 'id'"],
    [['partner', 'list', '--status', 'paused'], "option '--status <status>' argument 'paused' is invalid. Allowed choices are active, suspended."],
    [['consent', 'list', '--active', '--inactive'], "option '--active' cannot be used with option '--inactive'"],
    [['token'], "required option '--role <role>' not specified"],
    [['consent'], /./],
    [['consent', 'list', '--limit', 'lots'], '--limit must be a whole number from 1 to 1000, got "lots"'],
    [['audit', 'export', '--format', 'xml'], '--format must be csv or ndjson.'],
  ])('a command-line mistake (%j) is a USAGE error in JSON with exit 2', async (args, message) => {
    const r = await runCli([...args, '--json'], { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
    expectJsonError(r, 2, 'USAGE', typeof message === 'string' ? new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) : message);
  });

  it('--version prints the package version, as JSON with --json', async () => {
    const { version } = JSON.parse(await readFile('package.json', 'utf8'));
    expect(await runCli(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    const json = await runCli(['--version', '--json']);
    expect({ code: json.code, out: JSON.parse(json.stdout) }).toEqual({ code: 0, out: { version } });
  });

  it("every command's --help offers --json and ends with examples the README's operator section shows", async () => {
    const readme = await readFile('README.md', 'utf8');
    const operators = readme.slice(readme.indexOf('## For operators'), readme.indexOf('## For compliance officers')).replace(/\s*\\\n\s*/g, ' ');
    expect(leaves.length).toBeGreaterThanOrEqual(18);
    for (const path of leaves) {
      const help = await runCli([...path.split(' '), '--help']);
      expect({ command: path, code: help.code, stderr: help.stderr }).toEqual({ command: path, code: 0, stderr: '' });
      expect(help.stdout, path).toMatch(/^\s+--json\s/m);
      const examples = [...help.stdout.slice(help.stdout.indexOf('\nExamples:\n')).matchAll(/^ {2}\$ (.+)$/gm)].map((m) => m[1]!);
      expect(examples.length, `${path} has examples`).toBeGreaterThan(0);
      for (const example of examples) expect(operators, `README shows: ${example}`).toContain(example.replace(/(^|\s)consentry /, '$1npx consentry '));
    }
  }, 180_000);

  it('every other command prints one JSON object of its documented shape; failures are JSON errors', async () => {
    const store = await createCliStore('postgres');
    const dir = await mkdtemp(join(tmpdir(), 'consentry-json-'));
    const env = { ...store.env, CONSENTRY_DEMO_DIR: join(dir, 'demo'), CONSENTRY_ISSUER: 'http://gateway.test' };
    const ok = async (args: string[]) => {
      const r = await runCli([...args, '--json'], env);
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: '' });
      return JSON.parse(r.stdout);
    };
    const keys = (o: object) => Object.keys(o).sort();
    try {
      expect(await ok(['migrate'])).toEqual({ applied: [] });
      const seeded = await ok(['seed-demo']);
      expect(keys(seeded)).toEqual(['consents', 'directory', 'partners', 'seeded', 'subjects']);
      expect(seeded.partners[0]).toEqual({ clientId: expect.any(String), name: expect.any(String), folder: expect.any(String) });

      await writeFile(join(dir, 'scores.ndjson'), JSON.stringify({ subjectId: 'j-1', value: 700, dimensions: { creditHistory: 1, behaviourPreferences: 2, fulfilmentCapacity: 3, identityTraits: 4, socialConnections: 5 }, factors: [], history: [], asOf: '2026-06-01T00:00:00Z', model: 'm' }));
      expect(await ok(['scores', 'import', join(dir, 'scores.ndjson')])).toEqual({ lines: 1, imported: 1, rejected: 0, seconds: expect.any(Number), linesPerSecond: expect.any(Number) });

      expect(await ok(['token', '--role', 'admin'])).toEqual({ token: expect.any(String), sub: 'admin-1', roles: ['admin'], expiresAt: ISO });

      const granted = await ok(['consent', 'grant', '--subject', 'j-1', '--partner', 'p_demo_harbourview', '--purpose', 'post_pay', '--categories', 'score.band', '--days', '7']);
      expect(keys(granted)).toEqual(['categories', 'channel', 'expiresAt', 'grantedAt', 'id', 'partnerId', 'purpose', 'receipt', 'revokedAt', 'status', 'subjectId']);
      expect(await ok(['keys', 'rotate'])).toEqual({ kid: expect.any(String), retiredKid: expect.any(String) });

      await writeFile(join(dir, 'receipt.jws'), granted.receipt);
      expect(await ok(['receipt', 'verify', join(dir, 'receipt.jws')])).toEqual({ valid: true, kid: expect.any(String), claims: expect.objectContaining({ consentId: granted.id }) });
      // A receipt that fails the check is a verdict on stdout, exit 1; not an error.
      await writeFile(join(dir, 'forged.jws'), granted.receipt.slice(0, -4) + 'AAAA');
      const forged = await runCli(['receipt', 'verify', join(dir, 'forged.jws'), '--json'], env);
      expect({ code: forged.code, stderr: forged.stderr, out: JSON.parse(forged.stdout) }).toEqual({
        code: 1,
        stderr: '',
        out: { valid: false, reason: expect.any(String) },
      });

      expect(await ok(['audit', 'checkpoint'])).toEqual({ checkpoint: expect.objectContaining({ seq: expect.any(String), kid: expect.any(String) }) });
      expect(await ok(['audit', 'verify'])).toMatchObject({ ok: true, eventsChecked: expect.any(Number), checkpointsChecked: 1 });

      expectJsonError(await runCli(['partner', 'show', 'p_nobody', '--json'], env), 1, 'NOT_FOUND', /^No partner with id p_nobody\.$/);
      expectJsonError(await runCli(['subject', 'show', 's-nobody', '--json'], env), 1, 'NOT_FOUND');
      expectJsonError(await runCli(['partner', 'list', '--json'], { DATABASE_URL: 'mysql://x' }), 1, 'CONFIG_INVALID');
    } finally {
      await store.cleanup();
      await rm(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
