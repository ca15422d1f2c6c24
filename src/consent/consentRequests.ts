import { randomUUID } from 'node:crypto';
import { BadUserInputError, NotFoundError, PartnerSuspendedError } from '../errors.js';
import { expireConsentRequest, findConsentRequest, insertConsentRequest, type ConsentRequestRecord } from '../store/consentRequests.js';
import { findConsent, type ConsentRecord } from '../store/consents.js';
import { checkConsentTerms } from './consentTerms.js';

export type { ConsentRequestRecord };
import type { ConsentDeps } from './grantConsent.js';

/** How long a subject has to answer a request before it lapses. */
export const REQUEST_ANSWER_DAYS = 7;
const MAX_SUBJECT_ID_LENGTH = 256;

export interface ConsentRequestInput {
  subjectId: string;
  purpose: string;
  categories: string[];
  durationDays: number;
  redirectUri?: string | null;
}

/** Who is looking at a request: the partner that made it, or the subject it is addressed to. */
export type ConsentRequestViewer = { partnerId: string } | { subjectId: string };

export const approvalUrl = (issuer: string, requestId: string): string => `${issuer}/consent/${requestId}`;

/** The consent an approved request produced, if any. */
export async function consentOfRequest(deps: Pick<ConsentDeps, 'db'>, request: ConsentRequestRecord): Promise<ConsentRecord | undefined> {
  return request.consentId ? findConsent(deps.db, request.consentId) : undefined;
}

/**
 * A partner asks a subject for consent. Nothing here looks the subject up:
 * a request for an unknown subject is stored and answered exactly like any
 * other, so the response says nothing about who exists.
 */
export async function requestConsent(deps: ConsentDeps, partnerId: string, input: ConsentRequestInput): Promise<ConsentRequestRecord> {
  const { db, auditLog, clock } = deps;
  const subjectId = input.subjectId.trim();
  if (!subjectId || subjectId.length > MAX_SUBJECT_ID_LENGTH) {
    throw new BadUserInputError(`subjectId must be 1 to ${MAX_SUBJECT_ID_LENGTH} characters.`, { field: 'subjectId' });
  }
  const { partner, categories } = await checkConsentTerms(db, { ...input, partnerId });
  if (partner.status !== 'active') throw new PartnerSuspendedError('This partner is suspended.');
  const redirectUri = input.redirectUri ?? null;
  if (redirectUri !== null && !partner.redirectUris.includes(redirectUri)) {
    // Exact match only: anything looser lets a request send the subject to a page the partner never registered.
    throw new BadUserInputError('redirectUri is not one of the redirect URIs registered for this partner.', { field: 'redirectUri' });
  }

  const now = clock();
  const request = {
    id: randomUUID(),
    partnerId,
    subjectId,
    purpose: input.purpose,
    categories,
    durationDays: input.durationDays,
    redirectUri,
    createdAt: now,
    expiresAt: new Date(now.getTime() + REQUEST_ANSWER_DAYS * 86_400_000),
  };
  return auditLog.transaction(async (tx, record) => {
    const stored = await insertConsentRequest(tx, request);
    const pseudonym = await deps.pseudonyms.forSubject(tx, subjectId);
    await record([
      {
        kind: 'consent.requested',
        at: now,
        actorType: 'partner',
        actorId: partnerId,
        partnerId,
        subjectId: pseudonym,
        purpose: input.purpose,
        details: { requestId: request.id, categories, durationDays: input.durationDays, redirectUri, expiresAt: request.expiresAt.toISOString(), channel: 'api' },
      },
    ]);
    return stored;
  });
}

/**
 * A request as the viewer may see it, with a lapsed answer window recorded as
 * EXPIRED (and audited) at read time. Someone else's request is undefined,
 * exactly like a missing one.
 */
export async function readConsentRequest(deps: ConsentDeps, id: string, viewer: ConsentRequestViewer): Promise<ConsentRequestRecord | undefined> {
  const request = await findConsentRequest(deps.db, id);
  if (!request || !visibleTo(request, viewer)) return undefined;
  if (request.status !== 'PENDING' || request.expiresAt > deps.clock()) return request;
  return (await recordRequestExpiry(deps, request.id)) ?? (await findConsentRequest(deps.db, id));
}

/** The subject's own request, still open for an answer; typed errors saying why not otherwise. */
export async function openRequestOf(deps: ConsentDeps, id: string, subjectId: string): Promise<ConsentRequestRecord> {
  const request = await readConsentRequest(deps, id, { subjectId });
  if (!request) throw new NotFoundError('No such consent request.');
  assertStillOpen(request);
  return request;
}

export function assertStillOpen(request: ConsentRequestRecord): void {
  switch (request.status) {
    case 'PENDING':
      return;
    case 'APPROVED':
      throw new BadUserInputError('This consent request has already been approved.', { field: 'id', status: request.status });
    case 'DECLINED':
      throw new BadUserInputError('This consent request has already been declined.', { field: 'id', status: request.status });
    case 'EXPIRED':
      throw new BadUserInputError(`This consent request expired at ${request.expiresAt.toISOString()} without an answer.`, {
        field: 'id',
        status: request.status,
      });
  }
}

function visibleTo(request: ConsentRequestRecord, viewer: ConsentRequestViewer): boolean {
  return 'partnerId' in viewer ? request.partnerId === viewer.partnerId : request.subjectId === viewer.subjectId;
}

/** Marks and audits a lapsed request in one transaction; racing readers record it once. */
async function recordRequestExpiry(deps: ConsentDeps, id: string): Promise<ConsentRequestRecord | undefined> {
  const now = deps.clock();
  return deps.auditLog.transaction(async (tx, record) => {
    const expired = await expireConsentRequest(tx, id, now);
    if (expired) {
      await record([
          {
            kind: 'consent.request_expired',
            at: now,
            actorType: 'system',
            actorId: null,
            partnerId: expired.partnerId,
            subjectId: await deps.pseudonyms.forSubject(tx, expired.subjectId),
            purpose: expired.purpose,
            details: { requestId: expired.id, categories: expired.categories, expiredAt: expired.expiresAt.toISOString() },
          },
      ]);
    }
    return expired;
  });
}
