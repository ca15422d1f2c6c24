import { describe, expect, it } from 'vitest';
import { migrations } from '../../../migrations/index.js';
import { createCliStore, runCli } from '../../fixtures/cli.js';
import { STORE_KINDS } from '../../fixtures/stores.js';

const names = migrations.map((m) => new m().name as string);
const last = names.at(-1)!;

describe('consentry migrate', () => {
  it.concurrent.each(STORE_KINDS)('runs migrations up, reverts the last one and runs it again on %s', async (kind) => {
    // PGlite starts from an empty data directory, which the build's image creates already migrated; PostgreSQL from a migrated copy.
    const store = await createCliStore(kind, { migrated: false });
    try {
      const first = await runCli(['migrate', '--json'], store.env);
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      expect(JSON.parse(first.stdout)).toEqual({ applied: [] });

      const down = await runCli(['migrate', '--revert'], store.env);
      expect(down).toMatchObject({ code: 0, stdout: `Reverted ${last}\n`, stderr: '' });

      const up = await runCli(['migrate'], store.env);
      expect(up).toMatchObject({ code: 0, stdout: `Applied ${last}\n`, stderr: '' });

      const applied = await store.withDb((db) => db.query<{ name: string }>('SELECT name FROM migrations ORDER BY "timestamp"'));
      expect(applied.map((r) => r.name)).toEqual(names);
    } finally {
      await store.cleanup();
    }
  }, 120_000);
});
