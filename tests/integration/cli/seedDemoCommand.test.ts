import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { describe, expect, it, vi } from 'vitest';
import type { Sql } from '../../../src/store/database.js';
import { insertPartner, listPartners } from '../../../src/store/partners.js';
import { CLI_ENTRY } from '../../fixtures/build.js';
import { createCliStore, runCli } from '../../fixtures/cli.js';
import { freePort } from '../../fixtures/ports.js';
import { STORE_KINDS } from '../../fixtures/stores.js';

const FOLDERS = ['harbourview-hotels', 'kindred-match', 'northbridge-lending', 'swift-wheels-car-rental'];

/** What a demo seeding stopped after its first partner leaves behind. */
const interruptedSeeding = (db: Sql) =>
  insertPartner(db, { id: 'p_demo_swift_wheels', name: 'Swift Wheels', industry: 'car_rental', scopes: ['score.threshold'], purposes: ['deposit_waiver'], jwks: { keys: [] } }, new Date());

describe('consentry seed-demo', () => {
  it.concurrent.each(STORE_KINDS)('creates the demo partners, 300 subjects, consents and credential folders on %s', async (kind) => {
    const store = await createCliStore(kind);
    const demoDir = await mkdtemp(join(tmpdir(), 'consentry-demo-'));
    const env = { ...store.env, CONSENTRY_DEMO_DIR: demoDir };
    try {
      const seeded = await runCli(['seed-demo', '--json'], env);
      expect(seeded.stderr).toBe('');
      expect(seeded.code).toBe(0);
      expect(JSON.parse(seeded.stdout)).toMatchObject({ directory: demoDir, seeded: true, subjects: 300 });

      await store.withDb(async (db) => {
        const partners = await listPartners(db);
        expect(partners.map((p) => [p.id, p.scopes, p.purposes, p.status])).toEqual([
          ['p_demo_harbourview', ['score.band'], ['post_pay'], 'active'],
          ['p_demo_kindred', ['identity.verified'], ['identity_verification'], 'active'],
          [
            'p_demo_northbridge',
            ['score.threshold', 'score.band', 'score.value', 'score.dimensions', 'score.factors', 'score.history'],
            ['credit_underwriting'],
            'active',
          ],
          ['p_demo_swift_wheels', ['score.threshold'], ['deposit_waiver'], 'active'],
        ]);
        for (const p of partners) {
          expect(p.redirectUris).toContain('http://localhost:4000/demo/callback');
          expect(p.jwks.keys.every((k) => !('d' in k))).toBe(true);
        }
        const [counts] = await db.query<{ subjects: number; summaries: number; consents: number; walkthrough: number }>(
          `SELECT (SELECT count(*)::int FROM subjects) AS subjects, (SELECT count(*)::int FROM score_summaries) AS summaries,
                  (SELECT count(*)::int FROM consents) AS consents,
                  (SELECT count(*)::int FROM consents WHERE subject_id = 'demo-subject-1') AS walkthrough`,
        );
        expect(counts).toMatchObject({ subjects: 300, summaries: 300, walkthrough: 3 });
        expect(counts!.consents).toBeGreaterThan(10);
      });

      expect((await readdir(demoDir)).sort()).toEqual(['README.txt', ...FOLDERS]);
      for (const folder of FOLDERS) {
        expect((await readdir(join(demoDir, folder))).sort()).toEqual(['README.txt', 'partner.json', 'private-key.json', 'query.mjs']);
        const key = JSON.parse(await readFile(join(demoDir, folder, 'private-key.json'), 'utf8'));
        expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', kid: `${folder}-1`, d: expect.any(String) });
        expect((await stat(join(demoDir, folder, 'private-key.json'))).mode & 0o777).toBe(0o600);
        expect(JSON.parse(await readFile(join(demoDir, folder, 'partner.json'), 'utf8'))).toMatchObject({ kid: `${folder}-1`, clientId: expect.stringMatching(/^p_demo_/) });
      }

      const again = await runCli(['seed-demo'], env);
      expect(again).toMatchObject({ code: 0, stderr: '' });
      expect(again.stdout).toContain('The database already holds the demo partners; nothing was changed.');
    } finally {
      await store.cleanup();
      await rm(demoDir, { recursive: true, force: true });
    }
  }, 120_000);

  it.concurrent.each(STORE_KINDS)('refuses to build on an interrupted seeding and says how to start over, on %s', async (kind) => {
    const store = await createCliStore(kind);
    const demoDir = await mkdtemp(join(tmpdir(), 'consentry-demo-'));
    try {
      await store.withDb(interruptedSeeding);
      const r = await runCli(['seed-demo'], { ...store.env, CONSENTRY_DEMO_DIR: demoDir });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        'error: The demo data in this database is incomplete: an earlier seeding stopped halfway. ' +
          'Seed into an empty database: remove the data directory (CONSENTRY_DATA_DIR, ./data by default) or use a fresh DATABASE_URL.\n',
      );
      // Nothing was added on top of the half-built demo.
      await store.withDb(async (db) => expect((await listPartners(db)).map((p) => p.id)).toEqual(['p_demo_swift_wheels']));
    } finally {
      await store.cleanup();
      await rm(demoDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('serve still starts on an interrupted seeding, and warns how to get a whole demo', async () => {
    const store = await createCliStore('postgres');
    try {
      await store.withDb(interruptedSeeding);
      const server = spawn(process.execPath, [CLI_ENTRY, 'serve'], {
        env: { ...process.env, ...store.env, NODE_ENV: 'test', LOG_LEVEL: 'silent', PORT: String(await freePort()) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      server.stdout.on('data', (d) => (output += d));
      server.stderr.on('data', (d) => (output += d));
      try {
        await vi.waitFor(() => expect(output).toContain('Consentry listening on'), { timeout: 60_000, interval: 100 });
        await vi.waitFor(() => expect(output).toMatch(/"level":40,[^\n]*"msg":"The demo data in this database is incomplete/), { timeout: 5_000 });
        expect(output).not.toContain('Demo data seeded');
      } finally {
        server.kill('SIGKILL');
      }
    } finally {
      await store.cleanup();
    }
  }, 120_000);
});
