import { decideConsentRequest, findConsentRequest, type ConsentRequestRecord } from '../store/consentRequests.js';
import { BadUserInputError } from '../errors.js';
import { assertStillOpen, openRequestOf } from './consentRequests.js';
import type { ConsentChannel, ConsentDeps } from './grantConsent.js';

export interface DeclineConsentRequestInput {
  requestId: string;
  subjectId: string;
  channel: Extract<ConsentChannel, 'page' | 'api'>;
}

/** The subject says no. Recorded and audited in one transaction; nothing is granted. */
export async function declineConsentRequest(deps: ConsentDeps, input: DeclineConsentRequestInput): Promise<ConsentRequestRecord> {
  await openRequestOf(deps, input.requestId, input.subjectId);
  const now = deps.clock();
  return deps.auditLog.transaction(async (tx, record) => {
    const declined = await decideConsentRequest(tx, input.requestId, { status: 'DECLINED', at: now });
    if (!declined) {
      const current = await findConsentRequest(tx, input.requestId);
      if (current && current.status === 'PENDING') current.status = 'EXPIRED';
      if (current) assertStillOpen(current);
      throw new BadUserInputError('This consent request can no longer be declined.', { field: 'id' });
    }
    const pseudonym = await deps.pseudonyms.forSubject(tx, declined.subjectId);
    await record([
      {
        kind: 'consent.declined',
        at: now,
        actorType: 'subject',
        actorId: pseudonym,
        partnerId: declined.partnerId,
        subjectId: pseudonym,
        purpose: declined.purpose,
        details: { requestId: declined.id, categories: declined.categories, channel: input.channel },
      },
    ]);
    return declined;
  });
}
