import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics (prom-client), one registry per gateway instance so tests stay independent. */
export interface Metrics {
  registry: Registry;
  decisions: Counter<'partner' | 'outcome' | 'code'>;
  auditBatches: Histogram<never>;
  graphqlDuration: Histogram<'operation'>;
  tokensIssued: Counter<'outcome'>;
}

export function createMetrics(storeRoundTrips: () => number = () => 0): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'consentry_store_round_trips_total',
    help: 'Statements sent to the database since start (BEGIN and COMMIT included)',
    registers: [registry],
    collect() {
      this.set(storeRoundTrips());
    },
  });
  return {
    registry,
    decisions: new Counter({
      name: 'consentry_category_decisions_total',
      help: 'Category release decisions by partner, outcome and denial code',
      labelNames: ['partner', 'outcome', 'code'],
      registers: [registry],
    }),
    auditBatches: new Histogram({
      name: 'consentry_audit_batch_events',
      help: 'Audit events committed per group commit',
      buckets: [1, 2, 5, 10, 20, 50, 100, 500, 2000],
      registers: [registry],
    }),
    graphqlDuration: new Histogram({
      name: 'consentry_graphql_request_seconds',
      help: 'GraphQL request duration',
      labelNames: ['operation'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    tokensIssued: new Counter({
      name: 'consentry_oauth_token_requests_total',
      help: 'Token endpoint requests by outcome (issued or OAuth error code)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
  };
}
