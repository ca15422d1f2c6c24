import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit/auditLog.js';
import type { ActorType } from '../audit/chain.js';
import type { SubjectPseudonyms } from '../audit/subjectPseudonyms.js';
import type { SigningKeys } from '../auth/signingKeys.js';
import type { Clock } from '../clock.js';
import { BadUserInputError } from '../errors.js';
import type { Database } from '../store/database.js';
import { insertConsent, supersedeConsents, type ConsentRecord } from '../store/consents.js';
import type { Sql } from '../store/database.js';
import { checkConsentTerms, MAX_CONSENT_DAYS } from './consentTerms.js';
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
  pseudonyms: SubjectPseudonyms;
  keys: SigningKeys;
  clock: Clock;
  issuer: string;
}

export { MAX_CONSENT_DAYS };

export interface GrantConsentOptions {
  /**
   * Runs inside the grant's transaction after the consent row exists; if it
   * throws, nothing of the grant is committed. Approval uses it to claim the
   * consent request, so a request is approved at most once.
   */
  withinTransaction?: (tx: Sql, consent: ConsentRecord) => Promise<void>;
}

/**
 * Records a consent: validates it against the partner's approved scopes and
 * purposes and the registries, supersedes the previous consent of the same
 * (subject, partner, purpose), signs the receipt, and commits the consent and
 * its audit events in one transaction.
 */
export async function grantConsent(deps: ConsentDeps, input: GrantConsentInput, options: GrantConsentOptions = {}): Promise<ConsentRecord> {
  const { db, auditLog, keys, clock, issuer } = deps;
  if (!input.subjectId.trim()) throw new BadUserInputError('A subject id is required.');
  const { partner, categories } = await checkConsentTerms(db, input);

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

  return auditLog.transaction(async (tx, record) => {
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
    await options.withinTransaction?.(tx, consent);
    // Read after the insert: the consent row is what gives a new subject its key.
    const pseudonym = await deps.pseudonyms.forSubject(tx, input.subjectId);
    const common = {
      at: now,
      actorType: input.actor.type,
      actorId: input.actor.type === 'subject' ? pseudonym : input.actor.id,
      partnerId: partner.id,
      subjectId: pseudonym,
      purpose: input.purpose,
    };
    await record([
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
    return consent;
  });
}
