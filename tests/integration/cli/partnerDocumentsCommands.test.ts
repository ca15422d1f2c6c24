import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { createCliStore, runCli } from '../../fixtures/cli.js';
import { STORE_KINDS } from '../../fixtures/stores.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const THRESHOLD = 'query Threshold($id: ID!, $purpose: String!) { subject(id: $id, purpose: $purpose) { score { atLeast(threshold: 650) } } }';
const BAND = 'query Band($ids: [ID!]!) { subjects(ids: $ids, purpose: "deposit_waiver") { id score { band asOf } } }';
const ISO = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

describe('consentry partner documents', () => {
  it.concurrent.each(STORE_KINDS)('registers, lists and removes trusted documents and switches the mode, with --json, on %s', async (kind) => {
    const store = await createCliStore(kind);
    const dir = await mkdtemp(join(tmpdir(), 'consentry-documents-'));
    const json = async (args: string[]) => {
      const r = await runCli([...args, '--json'], store.env);
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: '' });
      return JSON.parse(r.stdout);
    };
    const failure = async (args: string[]) => {
      const r = await runCli([...args, '--json'], store.env);
      expect(r.stdout).toBe('');
      return { code: r.code, error: JSON.parse(r.stderr).error };
    };
    try {
      const { publicKey } = await generateKeyPair('ES256', { extractable: true });
      await writeFile(join(dir, 'keys.json'), JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] }));
      const { clientId: id } = await json([
        'partner', 'create', '--name', 'Acme Rentals', '--industry', 'car_rental', '--scopes', 'score.threshold,score.band',
        '--purposes', 'deposit_waiver', '--jwks', join(dir, 'keys.json'),
      ]);

      await writeFile(join(dir, 'persisted-documents.json'), JSON.stringify({ [sha256(THRESHOLD)]: THRESHOLD, [sha256(BAND)]: BAND }, null, 2));
      expect(await json(['partner', 'documents', 'add', id, '--manifest', join(dir, 'persisted-documents.json')])).toEqual({
        partnerId: id,
        added: [
          { hash: sha256(THRESHOLD), operations: ['Threshold'] },
          { hash: sha256(BAND), operations: ['Band'] },
        ],
        alreadyRegistered: [],
        registered: 2,
        trustedDocumentsOnly: false,
      });
      const again = await runCli(['partner', 'documents', 'add', id, '--manifest', join(dir, 'persisted-documents.json')], store.env);
      expect(again).toEqual({
        code: 0,
        stdout: `Registered 0 document(s) for ${id}; 2 were already registered; 2 in all.\nThe partner may still send any document; run "consentry partner update ${id} --trusted-documents-only" to allow only these.\n`,
        stderr: '',
      });

      expect(await json(['partner', 'update', id, '--trusted-documents-only'])).toMatchObject({
        clientId: id,
        trustedDocumentsOnly: true,
        changed: { trustedDocumentsOnly: { from: false, to: true } },
      });
      expect(await json(['partner', 'documents', 'list', id])).toEqual({
        partnerId: id,
        trustedDocumentsOnly: true,
        documents: [
          { hash: expect.any(String), operations: expect.any(Array), registeredAt: ISO },
          { hash: expect.any(String), operations: expect.any(Array), registeredAt: ISO },
        ],
      });

      // A document that would not run is refused with its line and column; nothing of the manifest is registered.
      const broken = 'query Broken {\n  subject(id: "a", purpose: "deposit_waiver") {\n    score { creditScore }\n  }\n}';
      await writeFile(join(dir, 'broken.json'), JSON.stringify({ [sha256(broken)]: broken, [sha256('query Fine { subject(id: "a", purpose: "post_pay") { id } }')]: 'query Fine { subject(id: "a", purpose: "post_pay") { id } }' }));
      const refused = await failure(['partner', 'documents', 'add', id, '--manifest', join(dir, 'broken.json')]);
      expect(refused).toEqual({
        code: 1,
        error: {
          code: 'BAD_USER_INPUT',
          message: `1 of 2 documents do not run against the partner schema:\n  ${sha256(broken)} (Broken):\n    line 3, column 13: Cannot query field "creditScore" on type "ScoreSummary".`,
          details: {
            field: 'manifest',
            documents: [{ hash: sha256(broken), operations: ['Broken'], problems: ['line 3, column 13: Cannot query field "creditScore" on type "ScoreSummary".'] }],
          },
        },
      });
      // A manifest hashed with SHA-1 (or edited by hand) is refused before anything is checked.
      await writeFile(join(dir, 'sha1.json'), JSON.stringify({ [createHash('sha1').update(THRESHOLD).digest('hex')]: THRESHOLD }));
      expect((await failure(['partner', 'documents', 'add', id, '--manifest', join(dir, 'sha1.json')])).error.message).toMatch(/not a SHA-256 hash/);
      await writeFile(join(dir, 'edited.json'), JSON.stringify({ [sha256(THRESHOLD)]: `${THRESHOLD} ` }));
      expect((await failure(['partner', 'documents', 'add', id, '--manifest', join(dir, 'edited.json')])).error.message).toMatch(/is not the SHA-256 of its document/);
      expect(await failure(['partner', 'documents', 'add', id, '--manifest', join(dir, 'missing.json')])).toEqual({
        code: 2,
        error: { code: 'USAGE', message: `cannot read the manifest ${join(dir, 'missing.json')}: ENOENT` },
      });
      expect((await failure(['partner', 'update', id, '--trusted-documents-only', '--allow-any-documents'])).code).toBe(2);
      expect((await failure(['partner', 'documents', 'list', 'p_nobody'])).error.code).toBe('NOT_FOUND');

      expect(await json(['partner', 'documents', 'remove', id, '--hash', `sha256:${sha256(BAND)},${'0'.repeat(64)}`])).toEqual({
        partnerId: id,
        removed: [sha256(BAND)],
        notRegistered: ['0'.repeat(64)],
      });
      const list = await runCli(['partner', 'documents', 'list', id], store.env);
      expect(list.stdout).toMatch(new RegExp(`^${id}: registered documents only; 1 registered\\n  sha256:${sha256(THRESHOLD)}  Threshold  registered \\S+\\n$`));

      await store.withDb(async (db) => {
        const events = await db.query<{ details: any }>(`SELECT details FROM audit_events WHERE kind = 'partner.changed' AND partner_id = $1 ORDER BY seq`, [id]);
        expect(events.map((e) => e.details.change)).toEqual(['registered', 'documents.registered', 'updated', 'documents.removed']);
        expect(events[3]!.details).toEqual({ change: 'documents.removed', hashes: [sha256(BAND)] });
      });
    } finally {
      await store.cleanup();
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
