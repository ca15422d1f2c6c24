import type { SourceFailureReason, SourceUnavailableError } from '../errors.js';
import type { Services } from '../services.js';

export interface ReadinessReport {
  ready: boolean;
  /** `source` only when an upstream score service serves the data (the local store is `store`). */
  checks: { store: CheckOutcome; audit: CheckOutcome; keys: CheckOutcome; source?: CheckOutcome };
}

type CheckOutcome = 'ok' | 'unreachable' | 'failing' | 'timeout';

/** A commit this recent proves the audit log takes appends; older than this (an idle replica), a probe is run. */
const AUDIT_EVIDENCE_FRESH_MS = 5000;

/** Readiness answers quickly or not at all: a load balancer's probe has its own short timeout. */
const CHECK_DEADLINE_MS = 1500;

/**
 * "Can this replica decide and audit a request right now?": the store
 * answers, the audit log takes appends, and a signing key is at hand. A busy
 * replica's audit log is judged by its own recent commits; an idle or failing
 * one runs an append that is rolled back, so a replica becomes ready by
 * itself when the fault is gone, although no traffic reaches it meanwhile.
 * With an upstream score service, a replica that can decide but not fetch
 * would only answer nulls: the upstream is asked directly (past the circuit
 * breaker, so recovery shows while the circuit is still open).
 */
export async function checkReadiness(services: Pick<Services, 'db' | 'auditLog' | 'keys' | 'scores'>): Promise<ReadinessReport> {
  const sourceProbe = services.scores.source.probe;
  const [store, audit, keys, source] = await Promise.all([
    withDeadline(services.db.query('SELECT 1').then(() => undefined)),
    withDeadline(services.auditLog.needsProbe(AUDIT_EVIDENCE_FRESH_MS) ? services.auditLog.probe() : Promise.resolve()),
    withDeadline(services.keys.signingKey().then(() => undefined)),
    sourceProbe ? withDeadline(sourceProbe()) : undefined,
  ]);
  const checks = { store, audit, keys, ...(source ? { source } : {}) };
  return { ready: Object.values(checks).every((c) => c === 'ok'), checks };
}

async function withDeadline(check: Promise<void>): Promise<CheckOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckOutcome>((resolve) => (timer = setTimeout(() => resolve('timeout'), CHECK_DEADLINE_MS)));
  const outcome = check.then(
    (): CheckOutcome => 'ok',
    (err: unknown): CheckOutcome => {
      const code = (err as { code?: string }).code;
      if (code === 'SOURCE_UNAVAILABLE') return sourceOutcome((err as SourceUnavailableError).reason);
      return code === 'SERVICE_UNAVAILABLE' ? 'unreachable' : 'failing';
    },
  );
  try {
    return await Promise.race([outcome, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function sourceOutcome(reason: SourceFailureReason): CheckOutcome {
  if (reason === 'timeout') return 'timeout';
  return reason === 'connection' || reason === 'circuit_open' ? 'unreachable' : 'failing';
}
