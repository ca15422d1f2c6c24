import type { AuditLog } from '../audit/auditLog.js';
import type { Clock } from '../clock.js';
import type { Database } from '../store/database.js';
import { pruneFactChanges } from '../store/factChanges.js';
import type { Logger } from '../logger.js';

const DAY_MS = 86_400_000;
/** The advisory lock replicas take in turn, so one run at a time applies retention ("retentio" in ASCII). */
const RETENTION_LOCK = 0x726574656e74696fn.toString();

export interface RetentionPolicy {
  /** Days score data (summary and identity check) is kept once its subject has no live consent and no pending request. */
  scoreDays: number;
  /** Days an unanswered consent request is kept after its answer window closed. */
  requestDays: number;
}

export interface RetentionDeps {
  db: Database;
  auditLog: AuditLog;
  clock: Clock;
}

export interface RetentionRun {
  /** False when another replica held the lock: it applies retention, this one did nothing. */
  ran: boolean;
  scoreRecordsDeleted: number;
  requestsDeleted: number;
}

/**
 * Storage limitation (GDPR Art. 5(1)(e), PIPL Art. 19): score data is held
 * to be shared with consent, so once a subject has had no live consent and no
 * pending request for `scoreDays` (counted from the later of its last import
 * and the end of its last consent) its summary and identity check are deleted;
 * unanswered requests go `requestDays` after their window closed. Consent rows
 * and the audit log stay: they are the evidence of what was shared.
 *
 * One audited transaction per run, under an advisory lock tried (not waited
 * for) so replicas never run it twice at once; a `retention.applied` event
 * with counts only (no ids) is recorded when anything was deleted.
 */
export async function applyRetention(deps: RetentionDeps, policy: RetentionPolicy): Promise<RetentionRun> {
  const now = deps.clock();
  const scoreCutoff = new Date(now.getTime() - policy.scoreDays * DAY_MS);
  const requestCutoff = new Date(now.getTime() - policy.requestDays * DAY_MS);
  return deps.auditLog.transaction(async (tx, record) => {
    const [lock] = await tx.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1::bigint) AS locked', [RETENTION_LOCK]);
    if (!lock?.locked) return { ran: false, scoreRecordsDeleted: 0, requestsDeleted: 0 };
    const scores = await tx.query<{ id: string }>(
      `DELETE FROM subjects s
       WHERE greatest(s.created_at, (SELECT ss.updated_at FROM score_summaries ss WHERE ss.subject_id = s.id)) <= $2
         AND NOT EXISTS (SELECT 1 FROM consents c WHERE c.subject_id = s.id
                         AND (coalesce(c.revoked_at, c.expires_at) > $2 OR (c.revoked_at IS NULL AND c.expires_at > $1)))
         AND NOT EXISTS (SELECT 1 FROM consent_requests r WHERE r.subject_id = s.id AND r.status = 'PENDING' AND r.expires_at > $1)
       RETURNING s.id`,
      [now, scoreCutoff],
    );
    const requests = await tx.query<{ id: string }>(
      `DELETE FROM consent_requests WHERE status IN ('PENDING', 'EXPIRED') AND expires_at <= $1 RETURNING id`,
      [requestCutoff],
    );
    // Housekeeping of the decision-facts check under the same lock; no subject's data, so nothing to record.
    await pruneFactChanges(tx);
    const run = { ran: true, scoreRecordsDeleted: scores.length, requestsDeleted: requests.length };
    if (run.scoreRecordsDeleted || run.requestsDeleted) {
      await record([
        {
          kind: 'retention.applied',
          at: now,
          actorType: 'system',
          actorId: 'retention',
          details: { scoreRecordsDeleted: run.scoreRecordsDeleted, requestsDeleted: run.requestsDeleted, scoreDays: policy.scoreDays, requestDays: policy.requestDays },
        },
      ]);
    }
    return run;
  });
}

/** Applies retention at start and then every `intervalSeconds`, in the background of a serving gateway. */
export function startRetentionJob(deps: RetentionDeps & { logger: Logger }, policy: RetentionPolicy & { intervalSeconds: number }): { stop(): Promise<void> } {
  let running: Promise<unknown> | undefined;
  const run = () => {
    running ??= applyRetention(deps, policy)
      .catch((err: unknown) => deps.logger.warn({ err }, 'applying retention failed'))
      .finally(() => (running = undefined));
  };
  const timer = setInterval(run, policy.intervalSeconds * 1000);
  timer.unref();
  run();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
