import type { ConsentDeps } from '../consent/grantConsent.js';
import { revokeConsent } from '../consent/revokeConsent.js';
import { BadUserInputError, NotFoundError } from '../errors.js';
import { destroySubjectKey } from '../store/subjectKeys.js';

export type SubjectEraser = { type: 'subject'; id: string } | { type: 'operator'; id: string };

export interface EraseSubjectInput {
  subjectId: string;
  /** Why (the subject closed its account, a request received by letter...); recorded in the audit event. */
  reason: string;
  actor: SubjectEraser;
  channel: 'page' | 'cli' | 'api';
}

/** What an erasure did, as recorded in its `subject.erased` event (never the subject id). */
export interface SubjectErasure {
  /** The pseudonym the subject's events carry; nothing links it to the subject any more. */
  pseudonym: string;
  consentsRevoked: number;
  scoreDeleted: boolean;
  identityDeleted: boolean;
  consentsPseudonymised: number;
  requestsPseudonymised: number;
  /** Events that still name the subject in a linkable way (plain id before pseudonyms, gateway-wide pseudonym), now hidden. */
  linkableEventsHidden: number;
  keyDestroyed: boolean;
  erasedAt: Date;
}

/**
 * Erasure (GDPR Art. 17, PIPL Art. 47) without breaking the audit chain:
 * live consents are withdrawn through the ordinary revocation path (each a
 * `consent.revoked` event, refused by the next request on every replica);
 * then, in one audited transaction, the score summary and identity data are
 * deleted, consent rows and requests keep only the pseudonym (receipts, which
 * name the subject, are emptied), events still linkable by id are hidden from
 * default views, and the subject's key is destroyed, so no one can tell which
 * pseudonymous events were about this subject. Events are never changed.
 */
export async function eraseSubject(deps: ConsentDeps, input: EraseSubjectInput): Promise<SubjectErasure> {
  const subjectId = input.subjectId;
  const reason = input.reason.trim();
  if (!reason) throw new BadUserInputError('Say why the subject is erased: the reason is recorded in the audit log.', { field: 'reason' });
  // The reason outlives the erasure in the log, so it must not carry the id the erasure removes.
  if (reason.includes(subjectId)) throw new BadUserInputError('The reason must not contain the subject id.', { field: 'reason' });

  const now = deps.clock();
  const live = await deps.db.query<{ id: string }>(
    'SELECT id FROM consents WHERE subject_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY granted_at',
    [subjectId, now],
  );
  let consentsRevoked = 0;
  for (const { id } of live) {
    try {
      await revokeConsent(deps, { consentId: id, actor: input.actor, channel: input.channel });
      consentsRevoked++;
    } catch (err) {
      // Revoked or run out meanwhile: withdrawn either way.
      if (!(err instanceof BadUserInputError)) throw err;
    }
  }

  const erasedAt = deps.clock();
  return deps.auditLog.transaction(async (tx, record) => {
    const pseudonym = await deps.pseudonyms.forSubject(tx, subjectId);
    const hidden = await tx.query<{ seq: string }>(
      `INSERT INTO erased_subject_events (seq, erased_at)
       SELECT seq, $4 FROM audit_events WHERE (subject_id = $1 AND seq <= $2::bigint) OR subject_id = $3
       ON CONFLICT (seq) DO NOTHING RETURNING seq::text AS seq`,
      [subjectId, deps.pseudonyms.plainIdsThroughSeq, deps.pseudonyms.gatewayPseudonym(subjectId), erasedAt],
    );
    const consents = await tx.query(`UPDATE consents SET subject_id = $2, receipt = '' WHERE subject_id = $1 RETURNING id`, [subjectId, pseudonym]);
    const requests = await tx.query('UPDATE consent_requests SET subject_id = $2 WHERE subject_id = $1 RETURNING id', [subjectId, pseudonym]);
    const score = await tx.query('DELETE FROM score_summaries WHERE subject_id = $1 RETURNING subject_id', [subjectId]);
    const identity = await tx.query('DELETE FROM subjects WHERE id = $1 RETURNING id', [subjectId]);
    const keyDestroyed = await destroySubjectKey(tx, subjectId);
    const erasure: SubjectErasure = {
      pseudonym,
      consentsRevoked,
      scoreDeleted: score.length > 0,
      identityDeleted: identity.length > 0,
      consentsPseudonymised: consents.length,
      requestsPseudonymised: requests.length,
      linkableEventsHidden: hidden.length,
      keyDestroyed,
      erasedAt,
    };
    if (!keyDestroyed && !identity.length && !consents.length && !requests.length && !hidden.length) {
      throw new NotFoundError('The gateway holds nothing about this subject.');
    }
    const { consentsPseudonymised, requestsPseudonymised, linkableEventsHidden, scoreDeleted, identityDeleted } = erasure;
    const facts = { consentsRevoked, scoreDeleted, identityDeleted, consentsPseudonymised, requestsPseudonymised, linkableEventsHidden, keyDestroyed };
    await record([
      {
        kind: 'subject.erased',
        at: erasedAt,
        actorType: input.actor.type,
        actorId: input.actor.type === 'subject' ? pseudonym : input.actor.id,
        subjectId: pseudonym,
        details: { ...facts, reason, channel: input.channel },
      },
    ]);
    return erasure;
  });
}
