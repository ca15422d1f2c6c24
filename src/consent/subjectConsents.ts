import { findConsent, listSubjectConsents, type ConsentRecord } from '../store/consents.js';
import { listPendingRequestsOf, type ConsentRequestRecord } from '../store/consentRequests.js';
import { recordConsentExpiries } from './recordExpiries.js';
import type { ConsentDeps } from './grantConsent.js';

export type { ConsentRecord };
export type ConsentStatus = 'ACTIVE' | 'REVOKED' | 'EXPIRED';

/** A consent's state at `now`. A superseded consent counts as revoked: the subject replaced it. */
export function consentStatus(consent: Pick<ConsentRecord, 'revokedAt' | 'expiresAt'>, now: Date): ConsentStatus {
  if (consent.revokedAt) return 'REVOKED';
  return consent.expiresAt.getTime() <= now.getTime() ? 'EXPIRED' : 'ACTIVE';
}

/**
 * The subject's consents, newest first. Consents found run out are recorded
 * as expired (once, audited) here too, so the log shows an expiry even for a
 * partner that never asked again.
 */
export async function listMyConsents(deps: ConsentDeps, subjectId: string, includeInactive: boolean): Promise<ConsentRecord[]> {
  const now = deps.clock();
  const consents = await listSubjectConsents(deps.db, subjectId, { includeInactive, now });
  const expired = consents.filter((c) => consentStatus(c, now) === 'EXPIRED').map((c) => c.id);
  if (expired.length) await recordConsentExpiries(deps, expired, now);
  return consents;
}

/** One of the subject's own consents; another subject's is as absent as a missing one. */
export async function findMyConsent(deps: ConsentDeps, subjectId: string, consentId: string): Promise<ConsentRecord | undefined> {
  const consent = await findConsent(deps.db, consentId);
  return consent && consent.subjectId === subjectId ? consent : undefined;
}

/** Requests still waiting for the subject's answer, newest first. */
export async function listMyPendingRequests(deps: ConsentDeps, subjectId: string): Promise<ConsentRequestRecord[]> {
  return listPendingRequestsOf(deps.db, subjectId, deps.clock());
}
