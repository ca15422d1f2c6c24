import type { AuditEventInput } from '../../../src/audit/chain.js';
import type { Services } from '../../../src/services.js';
import type { Sql } from '../../../src/store/database.js';
import type { StoreKind } from '../../fixtures/stores.js';
import { createCliStore, runCli as runFixtureCli, type CliResult } from '../../fixtures/cli.js';
import { listenGateway } from '../../fixtures/gateway.js';

/**
 * A listening gateway on a database the CLI can open too: a PostgreSQL copy
 * or an on-disk PGlite directory (PGlite admits one process at a time, so
 * stop the gateway before running the CLI against it).
 */
export interface AuditGateway {
  url: string;
  services: Services;
  /** Environment that points `consentry` at the same database. */
  cliEnv: Record<string, string>;
  /** Stops the server and closes the database; the data stays for the CLI. */
  stop(): Promise<void>;
  /** Removes the database. */
  cleanup(): Promise<void>;
}

export async function startAuditGateway(kind: StoreKind, env: Record<string, string> = {}): Promise<AuditGateway> {
  // The gateway migrates the store itself when it starts.
  const store = await createCliStore(kind, { migrated: false });
  const { url, services, server } = await listenGateway(store.env, { env });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await server.close();
    await services.db.close();
  };
  return {
    url,
    services,
    cliEnv: { ...store.env, CONSENTRY_ISSUER: url, LOG_LEVEL: 'silent', NODE_ENV: 'test' },
    stop,
    cleanup: async () => {
      await stop();
      await store.cleanup();
    },
  };
}

const PURPOSES = ['deposit_waiver', 'credit_underwriting'];

/** Access decisions like the gateway records them: some released, some denied. */
export function sampleEvents(count: number, start = new Date('2026-03-01T09:00:00.000Z'), partners = ['p_alpha', 'p_beta']): AuditEventInput[] {
  return Array.from({ length: count }, (_, i) => {
    const partnerId = partners[i % partners.length]!;
    const denied = i % 3 === 0;
    return {
      kind: 'access',
      at: new Date(start.getTime() + i * 60_000),
      actorType: 'partner' as const,
      actorId: partnerId,
      partnerId,
      subjectId: `s_${i % 17}`,
      purpose: PURPOSES[i % PURPOSES.length]!,
      requestId: `req-${i}`,
      released: denied ? [] : ['score.band'],
      denied: denied ? [{ category: 'score.band', code: 'CONSENT_REQUIRED' }] : [{ category: 'score.value', code: 'INSUFFICIENT_SCOPE' }].slice(0, i % 2),
      consentIds: denied ? [] : [`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`],
    };
  });
}

/** Alters audit rows the way a DBA with superuser rights could: triggers switched off for the transaction. */
export async function tamper(db: { transaction: <T>(work: (tx: Sql) => Promise<T>) => Promise<T> }, ...statements: [string, unknown[]?][]): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('SET LOCAL session_replication_role = replica');
    for (const [sql, params] of statements) await tx.query(sql, params ?? []);
  });
}

export type { CliResult };

/** `consentry ...` as an operator runs it; exports and verifications of large chains get a long time limit. */
export function runCli(args: string[], env: Record<string, string>, stdin?: string): Promise<CliResult> {
  return runFixtureCli(args, env, { input: stdin, timeoutMs: 180_000 });
}
