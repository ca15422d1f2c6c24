import type { ConsentFacts, PartnerFacts } from '../policy/facts.js';
import type { Sql } from './database.js';

export interface LoadedDecisionFacts {
  partner: PartnerFacts | null;
  consentsBySubject: Map<string, ConsentFacts[]>;
}

/**
 * Everything the release decision needs for one request, in one round trip
 * whatever the number of subjects: the partner's current state (so a
 * suspension or a withdrawn scope applies to tokens already issued) and every
 * unrevoked consent of the asked subjects to this partner. Consents are read
 * from the database on every request, never cached: a revocation that has
 * returned is seen by the next request on every replica.
 */
export async function loadDecisionFacts(db: Sql, partnerId: string, subjectIds: readonly string[]): Promise<LoadedDecisionFacts> {
  const [row] = await db.query<{ status: PartnerFacts['status']; scopes: string[]; purposes: string[]; consents: RawConsent[] }>(
    `SELECT p.status, p.scopes, p.purposes,
            COALESCE((SELECT json_agg(json_build_object(
                        'id', c.id, 'subjectId', c.subject_id, 'purpose', c.purpose, 'categories', c.categories,
                        'expiresAt', c.expires_at, 'revokedAt', c.revoked_at))
                      FROM consents c
                      WHERE c.partner_id = p.id AND c.revoked_at IS NULL AND c.expiry_recorded_at IS NULL
                        AND c.subject_id = ANY($2::text[])), '[]'::json) AS consents
     FROM partners p WHERE p.id = $1`,
    [partnerId, subjectIds],
  );
  const consentsBySubject = new Map<string, ConsentFacts[]>();
  if (!row) return { partner: null, consentsBySubject };
  for (const c of row.consents) {
    const facts: ConsentFacts = {
      id: c.id,
      subjectId: c.subjectId,
      partnerId,
      purpose: c.purpose,
      categories: c.categories,
      expiresAt: new Date(c.expiresAt),
      revokedAt: c.revokedAt ? new Date(c.revokedAt) : null,
    };
    const list = consentsBySubject.get(c.subjectId);
    if (list) list.push(facts);
    else consentsBySubject.set(c.subjectId, [facts]);
  }
  return {
    partner: { id: partnerId, status: row.status, approvedScopes: row.scopes, approvedPurposes: row.purposes },
    consentsBySubject,
  };
}

interface RawConsent {
  id: string;
  subjectId: string;
  purpose: string;
  categories: string[];
  expiresAt: string;
  revokedAt: string | null;
}
