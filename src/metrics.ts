import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics (prom-client), one registry per gateway instance so tests
 * stay independent. Labels are bounded: operation types, outcomes, HTTP
 * statuses, route templates and denial codes; partner ids only on the
 * decision counters, where the operator wants them per partner.
 */
export interface Metrics {
  registry: Registry;
  releases: Counter<'partner'>;
  denials: Counter<'partner' | 'code'>;
  auditGroupEvents: Histogram<never>;
  auditAppendDuration: Histogram<never>;
  auditAppendFailures: Counter<never>;
  snapshotReadDuration: Histogram<never>;
  graphqlDuration: Histogram<'operation_type' | 'outcome'>;
  tokenDuration: Histogram<'outcome'>;
  refusals: Counter<'status' | 'route'>;
}

/** What the gauges read at scrape time. */
export interface MetricSources {
  /** Statements sent to the database since start. */
  storeRoundTrips(): number;
  storePool(): { total: number; idle: number; waiting: number };
  /** Seconds since the chain head's event and since the latest checkpoint; NaN when there is none. */
  auditAges(): Promise<{ headAgeSeconds: number; checkpointAgeSeconds: number }>;
  flaggedPartners(): number;
  /** Group-commit append statements sent and committed by this process. */
  auditAppends(): { attempts: number; committed: number; stale: number };
  /** Whether other writers append to the audit chain between this process's group commits. */
  auditChainShared(): boolean;
  factsCache(): { hits: number; misses: number };
  /** Log lines lost because stdout's reader was too slow or had gone. */
  logLinesDropped(): number;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** The refusals operators alert on: unauthenticated, forbidden or suspended, rate limited, unavailable. */
export const COUNTED_REFUSALS = new Set([401, 403, 429, 503]);

export function createMetrics(sources: MetricSources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  let countedRoundTrips = 0;
  new Counter({
    name: 'consentry_store_round_trips_total',
    help: 'Statements sent to the database since start (BEGIN and COMMIT included)',
    registers,
    collect() {
      const now = sources.storeRoundTrips();
      this.inc(Math.max(0, now - countedRoundTrips));
      countedRoundTrips = now;
    },
  });
  // Equal while the sequencer lets every append succeed at its first attempt; a gap means appends fail.
  for (const [name, help, read] of [
    ['consentry_audit_append_attempts_total', 'Group-commit audit append statements sent', () => sources.auditAppends().attempts],
    ['consentry_audit_append_commits_total', 'Group-commit audit append statements committed', () => sources.auditAppends().committed],
    [
      'consentry_decisions_stale_total',
      'Request decisions not recorded because their facts changed before the audit append (the request decided again from a fresh read)',
      () => sources.auditAppends().stale,
    ],
    ['consentry_facts_cache_hits_total', 'Requests decided from facts cached in this process (checked by their audit append)', () => sources.factsCache().hits],
    ['consentry_facts_cache_misses_total', 'Requests whose facts were read from the store', () => sources.factsCache().misses],
    ['consentry_log_lines_dropped_total', "Log lines lost because stdout's reader was too slow or had gone", () => sources.logLinesDropped()],
  ] as const) {
    let counted = 0;
    new Counter({
      name,
      help,
      registers,
      collect() {
        const now = read();
        this.inc(Math.max(0, now - counted));
        counted = now;
      },
    });
  }
  new Gauge({
    name: 'consentry_store_pool_connections',
    help: 'Database connections of this process by state (in_use, idle)',
    labelNames: ['state'],
    registers,
    collect() {
      const pool = sources.storePool();
      this.set({ state: 'in_use' }, pool.total - pool.idle);
      this.set({ state: 'idle' }, pool.idle);
    },
  });
  new Gauge({
    name: 'consentry_store_pool_waiting_requests',
    help: 'Callers waiting for a database connection (the pool is exhausted while this is above 0)',
    registers,
    collect() {
      this.set(sources.storePool().waiting);
    },
  });
  const headAge = new Gauge({ name: 'consentry_audit_chain_head_age_seconds', help: 'Seconds since the newest audit event (any replica)', registers });
  const checkpointAge = new Gauge({
    name: 'consentry_audit_checkpoint_age_seconds',
    help: 'Seconds since the newest signed audit checkpoint (any replica)',
    registers,
    // One read serves both gauges; an unreachable store reports NaN rather than failing the scrape.
    async collect() {
      const ages = await sources.auditAges().catch(() => ({ headAgeSeconds: NaN, checkpointAgeSeconds: NaN }));
      headAge.set(ages.headAgeSeconds);
      this.set(ages.checkpointAgeSeconds);
    },
  });
  new Gauge({
    name: 'consentry_audit_chain_shared',
    help: "1 while other writers (replicas, consent changes) append to the audit chain between this process's group commits, whose groups then wait for each other (CONSENTRY_AUDIT_GROUP_LINGER_MS); 0 alone",
    registers,
    collect() {
      this.set(sources.auditChainShared() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'consentry_probing_flagged_partners',
    help: 'Partners currently flagged for probing (see the compliance page)',
    registers,
    collect() {
      this.set(sources.flaggedPartners());
    },
  });
  return {
    registry,
    releases: new Counter({
      name: 'consentry_category_releases_total',
      help: 'Categories released, by partner',
      labelNames: ['partner'],
      registers,
    }),
    denials: new Counter({
      name: 'consentry_category_denials_total',
      help: 'Categories denied, by partner and denial code',
      labelNames: ['partner', 'code'],
      registers,
    }),
    auditGroupEvents: new Histogram({
      name: 'consentry_audit_group_commit_events',
      help: 'Audit events committed per group commit (one statement)',
      buckets: [1, 2, 5, 10, 20, 50, 100, 500, 2000],
      registers,
    }),
    auditAppendDuration: new Histogram({
      name: 'consentry_audit_append_duration_seconds',
      help: "A request's audit append, from submission to durable commit (waiting for the group included)",
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    auditAppendFailures: new Counter({
      name: 'consentry_audit_append_failures_total',
      help: 'Request audit appends that failed (the request was refused with 503, nothing released)',
      registers,
    }),
    snapshotReadDuration: new Histogram({
      name: 'consentry_access_snapshot_read_duration_seconds',
      help: "A request's access snapshot read (partner, consents, subject data), waiting for the shared statement included",
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    graphqlDuration: new Histogram({
      name: 'consentry_graphql_request_duration_seconds',
      help: 'GraphQL requests by operation type and outcome (ok, refused: 4xx, unavailable: 503, error: other 5xx)',
      labelNames: ['operation_type', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    tokenDuration: new Histogram({
      name: 'consentry_oauth_token_request_duration_seconds',
      help: 'Token endpoint requests by outcome (issued, an OAuth error code, unavailable, error)',
      labelNames: ['outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    refusals: new Counter({
      name: 'consentry_refusals_total',
      help: 'Responses with status 401, 403, 429 or 503, by status and route template',
      labelNames: ['status', 'route'],
      registers,
    }),
  };
}

/** The outcome label of a request latency, from its HTTP status. */
export function outcomeOfStatus(status: number): 'ok' | 'refused' | 'unavailable' | 'error' {
  if (status < 400) return 'ok';
  if (status < 500) return 'refused';
  return status === 503 ? 'unavailable' : 'error';
}
