import type { AuditLog } from '../audit/auditLog.js';
import { subjectEventsWhere, type SubjectPseudonyms } from '../audit/subjectPseudonyms.js';
import type { ActorType } from '../audit/chain.js';
import type { Clock } from '../clock.js';
import { BadUserInputError, NotFoundError } from '../errors.js';
import type { Database, Sql } from '../store/database.js';
import type { ScoreSummaryRecord } from '../store/scoreSummaries.js';

const DAY_MS = 86_400_000;

/**
 * What an operator may see about a subject without reading its score: which
 * records exist, how current they are, and how its consents and reads stand.
 * The band counts as a score value here: it narrows the score to a range.
 */
export interface SubjectOverview {
  id: string;
  /** Whether the score store holds the subject (consents may name subjects it does not know yet). */
  inScoreStore: boolean;
  identity: { verified: boolean; level: string | null; verifiedAt: Date | null } | null;
  score: { asOf: Date; model: string; updatedAt: Date; historyMonths: number } | null;
  consents: { active: number; revoked: number; expired: number };
  pendingRequests: number;
  access: { last: { at: Date; partnerId: string | null; purpose: string | null } | null; lastDay: number };
}

export type RevealedScores = Pick<ScoreSummaryRecord, 'value' | 'band' | 'dimensions' | 'factors' | 'history'>;

/** The fields `revealSubjectScores` shows, named in its audit event (never their values). */
export const REVEALED_FIELDS = ['value', 'band', 'dimensions', 'factors', 'history'] as const;

export async function subjectOverview(db: Sql, pseudonyms: SubjectPseudonyms, subjectId: string, now: Date): Promise<SubjectOverview> {
  const dayAgo = new Date(now.getTime() - DAY_MS);
  const eventIds = await pseudonyms.eventIdsOf(db, subjectId);
  const lastParams: unknown[] = [];
  const lastWhere = subjectEventsWhere(eventIds, lastParams);
  const recentParams: unknown[] = [dayAgo];
  const recentWhere = subjectEventsWhere(eventIds, recentParams);
  const [[subject], [consents], [requests], [lastAccess], [recent]] = await Promise.all([
    db.query<{
      identity_verified: boolean;
      identity_level: string | null;
      identity_verified_at: Date | null;
      as_of: Date | null;
      model: string | null;
      updated_at: Date | null;
      history_months: number | null;
    }>(
      `SELECT s.identity_verified, s.identity_level, s.identity_verified_at, ss.as_of, ss.model, ss.updated_at,
              jsonb_array_length(ss.history) AS history_months
       FROM subjects s LEFT JOIN score_summaries ss ON ss.subject_id = s.id WHERE s.id = $1`,
      [subjectId],
    ),
    db.query<{ active: number; revoked: number; expired: number }>(
      `SELECT count(*) FILTER (WHERE revoked_at IS NULL AND expires_at > $2)::int AS active,
              count(*) FILTER (WHERE revoked_at IS NOT NULL)::int AS revoked,
              count(*) FILTER (WHERE revoked_at IS NULL AND expires_at <= $2)::int AS expired
       FROM consents WHERE subject_id = $1`,
      [subjectId, now],
    ),
    db.query<{ pending: number }>(
      `SELECT count(*)::int AS pending FROM consent_requests WHERE subject_id = $1 AND status = 'PENDING' AND expires_at > $2`,
      [subjectId, now],
    ),
    db.query<{ at: Date; partner_id: string | null; purpose: string | null }>(
      `SELECT e.at, e.partner_id, e.purpose FROM audit_events e WHERE e.kind = 'access' AND ${lastWhere} ORDER BY e.seq DESC LIMIT 1`,
      lastParams,
    ),
    db.query<{ reads: number }>(
      `SELECT count(*)::int AS reads FROM audit_events e WHERE e.kind = 'access' AND e.at >= $1 AND ${recentWhere}`,
      recentParams,
    ),
  ]);
  const counts = consents ?? { active: 0, revoked: 0, expired: 0 };
  if (!subject && !(counts.active + counts.revoked + counts.expired) && !requests?.pending && !lastAccess) {
    throw new NotFoundError(`No subject with id ${subjectId}: neither the score store, consents, consent requests nor the audit log name it.`);
  }
  return {
    id: subjectId,
    inScoreStore: !!subject,
    identity: subject
      ? { verified: subject.identity_verified, level: subject.identity_level, verifiedAt: subject.identity_verified_at && new Date(subject.identity_verified_at) }
      : null,
    score:
      subject?.as_of && subject.model && subject.updated_at
        ? { asOf: new Date(subject.as_of), model: subject.model, updatedAt: new Date(subject.updated_at), historyMonths: subject.history_months ?? 0 }
        : null,
    consents: counts,
    pendingRequests: requests?.pending ?? 0,
    access: {
      last: lastAccess ? { at: new Date(lastAccess.at), partnerId: lastAccess.partner_id, purpose: lastAccess.purpose } : null,
      lastDay: recent?.reads ?? 0,
    },
  };
}

export interface RevealDeps {
  db: Database;
  auditLog: AuditLog;
  pseudonyms: SubjectPseudonyms;
  clock: Clock;
}

/**
 * An operator reads a subject's score values. Officers and partners need
 * consent or never see them, so an operator's look is recorded as a
 * `subject.scores_viewed` event with the reason given, committed before the
 * values are returned (the fields shown are named, the values never).
 */
export async function revealSubjectScores(
  deps: RevealDeps,
  input: { subjectId: string; reason: string; actor: { type: ActorType; id: string }; channel: 'cli' },
): Promise<RevealedScores | null> {
  const reason = input.reason.trim();
  if (!reason) throw new BadUserInputError('Say why the score values are needed: the reason is recorded in the audit log.', { field: 'reason' });
  const [score] = await deps.db.query<RevealedScores>(
    'SELECT value, band, dimensions, factors, history FROM score_summaries WHERE subject_id = $1',
    [input.subjectId],
  );
  await deps.auditLog.append([
    {
      kind: 'subject.scores_viewed',
      at: deps.clock(),
      actorType: input.actor.type,
      actorId: input.actor.id,
      subjectId: await deps.pseudonyms.forSubject(deps.db, input.subjectId),
      details: { channel: input.channel, reason, fields: score ? [...REVEALED_FIELDS] : [] },
    },
  ]);
  return score ?? null;
}
