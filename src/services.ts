import { AuditLog } from './audit/auditLog.js';
import { GatewayTokens } from './auth/gatewayTokens.js';
import { SigningKeys } from './auth/signingKeys.js';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { settleIssuer } from './gatewayIssuer.js';
import { stdoutLogDestination } from './logDestination.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import { readAuditAges } from './audit/auditAges.js';
import { SubjectPseudonyms } from './audit/subjectPseudonyms.js';
import { probingMonitorFor } from './audit/probing.js';
import { createScoreSource, ReleasedScores } from './scores/releasedScores.js';
import { AccessFactsCache } from './store/accessFactsCache.js';
import { AccessSnapshotReader } from './store/accessSnapshot.js';
import { openDatabase, type Database, type OpenOptions } from './store/database.js';
import { createTracing, type Tracing, type TracingOptions } from './tracing.js';

/** The gateway's long-lived parts, built once and passed to whatever needs them. */
export interface Services {
  config: Config;
  db: Database;
  clock: Clock;
  keys: SigningKeys;
  tokens: GatewayTokens;
  auditLog: AuditLog;
  /** How audit events name subjects (keyed pseudonyms, never ids). */
  pseudonyms: SubjectPseudonyms;
  /** What partner requests are decided on, read for concurrent requests together. */
  accessSnapshots: AccessSnapshotReader;
  /** Where released score data comes from (the local store or an upstream service), fetched after the audit commit. */
  scores: ReleasedScores;
  logger: Logger;
  metrics: Metrics;
  tracing: Tracing;
}

export interface ServiceOptions extends OpenOptions {
  clock?: Clock;
  logger?: Logger;
  db?: Database;
  /** Spans go here (tests); otherwise tracing follows the configuration. */
  spanExporter?: TracingOptions['exporter'];
}

export async function createServices(givenConfig: Config, options: ServiceOptions = {}): Promise<Services> {
  const clock = options.clock ?? systemClock;
  const logDestination = options.logger ? undefined : stdoutLogDestination();
  const logger = options.logger ?? createLogger(givenConfig.logLevel, logDestination);
  const db =
    options.db ??
    (await openDatabase(givenConfig.database, {
      ...options,
      // A connection the store dropped is discarded and replaced; the process only notes it.
      onError: (err) => logger.warn({ err: (err as Error).message }, 'store connection error'),
    }));
  const config = await settleIssuer(db, givenConfig, options.role === 'serve' ? 'serve' : 'command', clock());
  const keys = new SigningKeys(db, clock);
  await keys.load();
  const pseudonyms = await SubjectPseudonyms.load(db, clock());
  const auditLog = new AuditLog(db, config.audit.groupLingerMs);
  const scoreSource = createScoreSource(config.scoreSource);
  const factsCache = config.factsCacheSubjects > 0 ? new AccessFactsCache(config.factsCacheSubjects) : undefined;
  const accessSnapshots = new AccessSnapshotReader(db, { withSubjectData: scoreSource.readsWithSnapshot }, factsCache);
  const metrics = createMetrics({
    storeRoundTrips: () => db.roundTrips,
    storePool: () => db.poolUsage(),
    auditAges: () => readAuditAges(db, clock()),
    flaggedPartners: () => probingMonitorFor(services).flaggedCount(),
    auditAppends: () => auditLog.counts,
    auditChainShared: () => auditLog.chainShared(),
    factsCache: () => accessSnapshots.cacheCounts,
    logLinesDropped: () => logDestination?.droppedLines() ?? 0,
  });
  const services: Services = {
    config,
    db,
    clock,
    keys,
    tokens: new GatewayTokens(keys, config.issuer, clock),
    auditLog,
    pseudonyms,
    accessSnapshots,
    scores: new ReleasedScores(scoreSource, { auditLog, logger, registry: metrics.registry, clock }),
    logger,
    metrics,
    tracing: createTracing(config.tracing, { exporter: options.spanExporter }),
  };
  auditLog.onAppended((events) => services.metrics.auditGroupEvents.observe(events.length));
  return services;
}
