import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCliStore, runCli } from '../../fixtures/cli.js';
import { STORE_KINDS } from '../../fixtures/stores.js';
import { readSubjects } from '../../fixtures/subjects.js';

const line = (subjectId: string, value: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    subjectId,
    value,
    dimensions: { creditHistory: 70, behaviourPreferences: 60, fulfilmentCapacity: 55, identityTraits: 80, socialConnections: 40 },
    factors: [{ code: 'ON_TIME_PAYMENTS', description: 'No missed payments in the last 24 months' }],
    history: [
      { month: '2026-04', value: 600 },
      { month: '2026-05', value: 605 },
    ],
    asOf: '2026-05-31T00:00:00Z',
    model: 'import-test-1',
    ...extra,
  });

/** Lines 1-8: good ones kept, bad ones reported by number (line 6 is blank and ignored). */
const FILE = [
  line('imp-1', 720, { identity: { verified: true, level: 'document', verifiedAt: '2025-01-01T00:00:00Z' } }),
  line('imp-2', 349),
  '{"subjectId": "imp-3", ',
  line('imp-4', 610, { band: 'GOOD' }),
  line('imp-5', 610, { band: 'EXCELLENT' }),
  '',
  line('imp-6', 560),
  line('imp-1', 730),
].join('\n');

describe('consentry scores import', () => {
  it.concurrent.each(STORE_KINDS)('keeps good lines, reports bad ones by line number and exits 1 on %s', async (kind) => {
    const store = await createCliStore(kind);
    const dir = await mkdtemp(join(tmpdir(), 'consentry-import-'));
    try {
      await writeFile(join(dir, 'scores.ndjson'), `${FILE}\n`);
      const r = await runCli(['scores', 'import', join(dir, 'scores.ndjson'), '--json'], store.env);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n').map((l) => JSON.parse(l))).toEqual([
        { line: 2, reason: 'value: must be from 350 to 950' },
        { line: 3, reason: 'not valid JSON' },
        { line: 5, reason: 'band EXCELLENT disagrees with value 610 (GOOD)' },
      ]);
      expect(JSON.parse(r.stdout)).toMatchObject({ lines: 7, imported: 4, rejected: 3 });

      await store.withDb(async (db) => {
        const subjects = await readSubjects(db, ['imp-1', 'imp-2', 'imp-3', 'imp-4', 'imp-5', 'imp-6']);
        expect([...subjects.keys()].sort()).toEqual(['imp-1', 'imp-4', 'imp-6']);
        // The later line for a subject wins, even within one batch.
        expect(subjects.get('imp-1')).toMatchObject({
          identity: { verified: false },
          score: { value: 730, band: 'EXCELLENT', history: [{ month: '2026-05', value: 605 }, { month: '2026-04', value: 600 }], model: 'import-test-1' },
        });
        expect(subjects.get('imp-4')?.score).toMatchObject({ value: 610, band: 'GOOD' });
        expect(subjects.get('imp-6')?.score).toMatchObject({ value: 560, band: 'FAIR' });
      });

      const clean = [line('imp-7', 900), line('imp-8', 400)].join('\n');
      await writeFile(join(dir, 'clean.ndjson'), clean);
      const ok = await runCli(['scores', 'import', join(dir, 'clean.ndjson')], store.env);
      expect(ok).toMatchObject({ code: 0, stderr: '' });
      expect(ok.stdout).toMatch(/^Imported 2 lines \(\d+\.\d s, [\d,]+ lines\/s\)\.\n$/);
    } finally {
      await store.cleanup();
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
