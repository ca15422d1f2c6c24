import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit/auditLog.js';
import type { ActorType } from '../audit/chain.js';
import type { SigningKeys } from '../auth/signingKeys.js';
import type { Clock } from '../clock.js';
import { BadUserInputError, NotFoundError } from '../errors.js';
import type { Database } from '../store/database.js';
import { insertConsent, supersedeConsents, type ConsentRecord } from '../store/consents.js';
import { findPartner } from '../store/partners.js';
import { listCategories, listPurposes } from '../store/registries.js';
import { POLICY_VERSION, signReceipt } from './receipts.js';

export type ConsentChannel = 'page' | 'api' | 'cli';

export interface GrantConsentInput {
  subjectId: string;
  partnerId: string;
  purpose: string;
  categories: string[];
  durationDays: number;
  channel: ConsentChannel;
  actor: { type: ActorType; id: string | null };
  requestId?: string | null;
}

export interface ConsentDeps {
  db: Database;
  auditLog: AuditLog;
  keys: SigningKeys;
  clock: Clock;
  issuer: string;
}

export const MAX_CONSENT_DAYS = 365;

/**
 * Records a consent: validates it against the partner's approved scopes and
 * purposes and the registries, supersedes the previous consent of the same
 * (subject, partner, purpose), signs the receipt, and commits the consent and
 * its audit events in one transaction.
 */
export async function grantConsent(deps: ConsentDeps, input: GrantConsentInput): Promise<ConsentRecord> {
  const { db, auditLog, keys, clock, issuer } = deps;
  const categories = [...new Set(input.categories)].sort();
  if (!input.subjectId.trim()) throw new BadUserInputError('A subject id is required.');
  if (!Number.isInteger(input.durationDays) || input.durationDays < 1 || input.durationDays > MAX_CONSENT_DAYS) {
    throw new BadUserInputError(`The duration must be a whole number of days from 1 to ${MAX_CONSENT_DAYS}.`, { field: 'durationDays' });
  }
  if (!categories.length) throw new BadUserInputError('At least one category is required.', { field: 'categories' });
  const partner = await findPartner(db, input.partnerId);
  if (!partner) throw new NotFoundError(`No partner with id ${input.partnerId}.`);
  const [knownCategories, knownPurposes] = await Promise.all([listCategories(db), listPurposes(db)]);
  const unknown = categories.filter((c) => !knownCategories.some((k) => k.name === c));
  if (unknown.length) throw new BadUserInputError(`Unknown categories: ${unknown.join(', ')}.`, { field: 'categories' });
  if (!knownPurposes.some((p) => p.name === input.purpose)) {
    throw new BadUserInputError(`Unknown purpose: ${input.purpose}.`, { field: 'purpose' });
  }
  if (!partner.purposes.includes(input.purpose)) {
    throw new BadUserInputError(`Partner ${partner.id} is not approved for purpose ${input.purpose}.`, { field: 'purpose' });
  }
  const outside = categories.filter((c) => !partner.scopes.includes(c));
  if (outside.length) {
    throw new BadUserInputError(`Partner ${partner.id} is not approved for: ${outside.join(', ')}.`, { field: 'categories' });
  }

  const now = clock();
  const id = randomUUID();
  const expiresAt = new Date(now.getTime() + input.durationDays * 86_400_000);
  const receipt = await signReceipt(keys, {
    consentId: id,
    subject: input.subjectId,
    partner: { id: partner.id, name: partner.name },
    purpose: input.purpose,
    categories,
    grantedAt: now.toISOString(),
    expiresAt: expiresAt.toISOString(),
    policyVersion: POLICY_VERSION,
    issuer,
  });

  const { consent, events } = await db.transaction(async (tx) => {
    const superseded = await supersedeConsents(tx, input, id, now);
    const consent = await insertConsent(tx, {
      id,
      subjectId: input.subjectId,
      partnerId: partner.id,
      purpose: input.purpose,
      categories,
      grantedAt: now,
      expiresAt,
      channel: input.channel,
      requestId: input.requestId ?? null,
      policyVersion: POLICY_VERSION,
      receipt,
    });
    const common = {
      at: now,
      actorType: input.actor.type,
      actorId: input.actor.id,
      partnerId: partner.id,
      subjectId: input.subjectId,
      purpose: input.purpose,
    };
    const events = await auditLog.appendWithin(tx, [
      ...superseded.map((old) => ({
        ...common,
        kind: 'consent.superseded',
        consentIds: [old.id],
        details: { supersededBy: id, channel: input.channel },
      })),
      {
        ...common,
        kind: 'consent.granted',
        consentIds: [id],
        details: { categories, channel: input.channel, expiresAt: expiresAt.toISOString(), requestId: input.requestId ?? null, policyVersion: POLICY_VERSION },
      },
    ]);
    return { consent, events };
  });
  auditLog.notifyCommitted(events);
  return consent;
}
