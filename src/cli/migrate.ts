import type { Command } from 'commander';
import { migrate, openDatabase, revertLastMigration, type Database } from '../store/database.js';
import { configFromEnv, printResult } from './output.js';
import { runCommand } from './runCommand.js';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('run pending migrations (printing their names), or revert the last one with --revert')
    .option('--revert', 'revert the most recently applied migration')
    .option('--json', 'machine-readable output')
    .action((opts: { revert?: boolean; json?: boolean }) =>
      runCommand(opts.json, async (io) => {
        const db = await openDatabase(configFromEnv().database, { migrate: false });
        try {
          if (opts.revert) {
            const reverted = await lastAppliedMigration(db);
            if (reverted) await revertLastMigration(db);
            printResult(io, !!opts.json, { reverted: reverted ?? null }, reverted ? `Reverted ${reverted}` : 'No migration to revert.');
          } else {
            const applied = await migrate(db);
            printResult(
              io,
              !!opts.json,
              { applied },
              applied.length ? applied.map((name) => `Applied ${name}`).join('\n') : 'The schema is up to date; no pending migration.',
            );
          }
        } finally {
          await db.close();
        }
      }),
    );
}

/** The migration `--revert` would undo, named before undoing it (TypeORM's revert does not say). */
async function lastAppliedMigration(db: Database): Promise<string | undefined> {
  // TypeORM's default migrations table; the data sources never rename it.
  const table = 'migrations';
  const [exists] = await db.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [table]);
  if (!exists?.present) return undefined;
  const [row] = await db.query<{ name: string }>(`SELECT name FROM "${table}" ORDER BY "timestamp" DESC LIMIT 1`);
  return row?.name;
}
