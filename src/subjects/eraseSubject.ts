import { hideLinkableEvents } from '../audit/subjectPseudonyms.js';
import type { ConsentDeps } from '../consent/grantConsent.js';
import { revokeConsent } from '../consent/revokeConsent.js';
import { BadUserInputError, NotFoundError } from '../errors.js';
import { pseudonymiseConsentRequests } from '../store/consentRequests.js';
import { listLiveConsentIds, pseudonymiseConsents } from '../store/consents.js';
import { deleteSubjectData } from '../store/scoreSummaries.js';
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
  // The reason outlives the erasure in the log, so an operator's free text must not carry the id the erasure removes
  // (a subject's own erasure records a fixed reason, which an id could only match by accident).
  if (input.actor.type === 'operator' && reason.includes(subjectId)) throw new BadUserInputError('The reason must not contain the subject id.', { field: 'reason' });

  const now = deps.clock();
  let consentsRevoked = 0;
  for (const id of await listLiveConsentIds(deps.db, subjectId, now)) {
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
    const linkableEventsHidden = await hideLinkableEvents(tx, deps.pseudonyms, subjectId, erasedAt);
    const consentsPseudonymised = await pseudonymiseConsents(tx, subjectId, pseudonym);
    const requestsPseudonymised = await pseudonymiseConsentRequests(tx, subjectId, pseudonym);
    const { scoreDeleted, identityDeleted } = await deleteSubjectData(tx, subjectId);
    const keyDestroyed = await destroySubjectKey(tx, subjectId);
    const facts = { consentsRevoked, scoreDeleted, identityDeleted, consentsPseudonymised, requestsPseudonymised, linkableEventsHidden, keyDestroyed };
    // Thrown inside the transaction: an id the gateway holds nothing about records no erasure.
    if (!keyDestroyed && !identityDeleted && !consentsPseudonymised && !requestsPseudonymised && !linkableEventsHidden) {
      throw new NotFoundError('The gateway holds nothing about this subject.');
    }
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
    return { pseudonym, ...facts, erasedAt };
  });
}
