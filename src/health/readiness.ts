import type { Services } from '../services.js';

export interface ReadinessReport {
  ready: boolean;
  checks: { store: CheckOutcome; audit: CheckOutcome; keys: CheckOutcome };
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
 */
export async function checkReadiness(services: Pick<Services, 'db' | 'auditLog' | 'keys'>): Promise<ReadinessReport> {
  const [store, audit, keys] = await Promise.all([
    withDeadline(services.db.query('SELECT 1').then(() => undefined)),
    withDeadline(services.auditLog.needsProbe(AUDIT_EVIDENCE_FRESH_MS) ? services.auditLog.probe() : Promise.resolve()),
    withDeadline(services.keys.signingKey().then(() => undefined)),
  ]);
  const checks = { store, audit, keys };
  return { ready: Object.values(checks).every((c) => c === 'ok'), checks };
}

async function withDeadline(check: Promise<void>): Promise<CheckOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckOutcome>((resolve) => (timer = setTimeout(() => resolve('timeout'), CHECK_DEADLINE_MS)));
  const outcome = check.then(
    (): CheckOutcome => 'ok',
    (err: unknown): CheckOutcome => ((err as { code?: string }).code === 'SERVICE_UNAVAILABLE' ? 'unreachable' : 'failing'),
  );
  try {
    return await Promise.race([outcome, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
