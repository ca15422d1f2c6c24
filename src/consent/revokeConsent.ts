import { BadUserInputError, NotFoundError } from '../errors.js';
import { findConsent, markConsentRevoked, type ConsentRecord } from '../store/consents.js';
import type { ConsentChannel, ConsentDeps } from './grantConsent.js';

/**
 * Who withdraws: the subject (only its own consents), or an operator acting
 * on the subject's behalf (a withdrawal by letter or phone, a consent recorded
 * in error), who may withdraw any consent and is named in the audit event.
 */
export type ConsentRevoker = { type: 'subject'; id: string } | { type: 'operator'; id: string };

export interface RevokeConsentInput {
  consentId: string;
  actor: ConsentRevoker;
  channel: ConsentChannel;
}

/**
 * Withdraws a consent. revoked_at and the `consent.revoked` event commit
 * together; since the release decision reads consents from the database on
 * every request, any request starting after this returns is refused, on
 * every replica.
 */
export async function revokeConsent(deps: ConsentDeps, input: RevokeConsentInput): Promise<ConsentRecord> {
  const now = deps.clock();
  const ownerOnly = input.actor.type === 'subject' ? input.actor.id : null;
  return deps.auditLog.transaction(async (tx, record) => {
    const revoked = await markConsentRevoked(tx, input.consentId, ownerOnly, now);
    if (!revoked) {
      const existing = await findConsent(tx, input.consentId);
      // Someone else's consent is reported to a subject exactly like a missing one.
      if (!existing || (ownerOnly !== null && existing.subjectId !== ownerOnly)) throw new NotFoundError('No such consent.');
      if (existing.revokedAt) throw new BadUserInputError('This consent has already been revoked.', { field: 'id', status: 'REVOKED' });
      throw new BadUserInputError('This consent has already expired.', { field: 'id', status: 'EXPIRED' });
    }
    const pseudonym = await deps.pseudonyms.forSubject(tx, revoked.subjectId);
    await record([
      {
        kind: 'consent.revoked',
        at: now,
        actorType: input.actor.type,
        actorId: input.actor.type === 'subject' ? pseudonym : input.actor.id,
        partnerId: revoked.partnerId,
        subjectId: pseudonym,
        purpose: revoked.purpose,
        consentIds: [revoked.id],
        details: { categories: revoked.categories, channel: input.channel },
      },
    ]);
    return revoked;
  });
}
