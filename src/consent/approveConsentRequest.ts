import { BadUserInputError } from '../errors.js';
import { decideConsentRequest } from '../store/consentRequests.js';
import type { ConsentRecord } from '../store/consents.js';
import { findConsentRequest } from '../store/consentRequests.js';
import { assertStillOpen, openRequestOf } from './consentRequests.js';
import { grantConsent, type ConsentChannel, type ConsentDeps } from './grantConsent.js';

export interface ApproveConsentRequestInput {
  requestId: string;
  subjectId: string;
  /** The categories the subject approves; all requested ones when omitted. */
  categories?: readonly string[] | null;
  channel: Extract<ConsentChannel, 'page' | 'api'>;
}

/**
 * The subject approves a request, possibly for fewer categories than asked.
 * The consent is granted (superseding an older one for the same partner and
 * purpose) and the request claimed in one transaction, so a request is
 * approved at most once however many answers race.
 */
export async function approveConsentRequest(deps: ConsentDeps, input: ApproveConsentRequestInput): Promise<ConsentRecord> {
  const request = await openRequestOf(deps, input.requestId, input.subjectId);
  const approved = [...new Set(input.categories ?? request.categories)].sort();
  if (!approved.length) throw new BadUserInputError('Approve at least one category, or decline the request.', { field: 'categories' });
  const notAsked = approved.filter((c) => !request.categories.includes(c));
  if (notAsked.length) {
    throw new BadUserInputError(`categories may only include requested categories; not requested: ${notAsked.join(', ')}.`, { field: 'categories' });
  }

  return grantConsent(
    deps,
    {
      subjectId: request.subjectId,
      partnerId: request.partnerId,
      purpose: request.purpose,
      categories: approved,
      durationDays: request.durationDays,
      channel: input.channel,
      actor: { type: 'subject', id: input.subjectId },
      requestId: request.id,
    },
    {
      withinTransaction: async (tx, consent) => {
        const claimed = await decideConsentRequest(tx, request.id, { status: 'APPROVED', at: consent.grantedAt, consentId: consent.id });
        if (claimed) return;
        // Lost a race with another answer (or the window closed meanwhile): say which.
        const now = await findConsentRequest(tx, request.id);
        if (now && now.status === 'PENDING') now.status = 'EXPIRED';
        if (now) assertStillOpen(now);
        throw new BadUserInputError('This consent request can no longer be approved.', { field: 'id' });
      },
    },
  );
}
