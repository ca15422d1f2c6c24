import { Counter } from 'prom-client';
import { AuditLog } from './audit/auditLog.js';
import { GatewayTokens } from './auth/gatewayTokens.js';
import { SigningKeys } from './auth/signingKeys.js';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import { AccessSnapshotReader } from './store/accessSnapshot.js';
import { openDatabase, type Database, type OpenOptions } from './store/database.js';

/** The gateway's long-lived parts, built once and passed to whatever needs them. */
export interface Services {
  config: Config;
  db: Database;
  clock: Clock;
  keys: SigningKeys;
  tokens: GatewayTokens;
  auditLog: AuditLog;
  /** What partner requests are decided on, read for concurrent requests together. */
  accessSnapshots: AccessSnapshotReader;
  logger: Logger;
  metrics: Metrics;
}

export interface ServiceOptions extends OpenOptions {
  clock?: Clock;
  logger?: Logger;
  db?: Database;
}

export async function createServices(config: Config, options: ServiceOptions = {}): Promise<Services> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger(config.logLevel);
  const db =
    options.db ??
    (await openDatabase(config.database, {
      ...options,
      // A connection the store dropped is discarded and replaced; the process only notes it.
      onError: (err) => logger.warn({ err: (err as Error).message }, 'store connection error'),
    }));
  const keys = new SigningKeys(db, clock);
  await keys.load();
  const metrics = createMetrics(() => db.roundTrips);
  const auditLog = new AuditLog(db);
  auditLog.onAppended((events) => metrics.auditBatches.observe(events.length));
  // Group-commit statements sent and committed: equal while the sequencer makes every append succeed at the first attempt.
  for (const [name, help, read] of [
    ['consentry_audit_append_attempts_total', 'Group-commit append statements sent', () => auditLog.counts.attempts],
    ['consentry_audit_append_commits_total', 'Group-commit append statements committed', () => auditLog.counts.committed],
  ] as const) {
    new Counter({
      name,
      help,
      registers: [metrics.registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  }
  return {
    config,
    db,
    clock,
    keys,
    tokens: new GatewayTokens(keys, config.issuer, clock),
    auditLog,
    accessSnapshots: new AccessSnapshotReader(db),
    logger,
    metrics,
  };
}
