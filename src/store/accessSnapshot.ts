import type { ConsentFacts, PartnerFacts } from '../policy/facts.js';
import type { Sql } from './database.js';
import { subjectFromRow, type SubjectRecord, type SubjectRow } from './scoreSummaries.js';

export interface AccessSnapshot {
  partner: PartnerFacts | null;
  consentsBySubject: Map<string, ConsentFacts[]>;
  /**
   * Records of the asked subjects that hold a live consent to this partner.
   * Read here to save a round trip, but nothing in them leaves the gateway
   * before the decision and its audit commit; subjects that never consented
   * to this partner are not read at all.
   */
  consentingSubjects: Map<string, SubjectRecord>;
}

/**
 * Everything one partner request needs, in one round trip whatever the number
 * of subjects: the partner's current state (so a suspension or a withdrawn
 * scope applies to tokens already issued), every unrevoked consent of the
 * asked subjects to this partner, and the data of those subjects. Consents are
 * read from the database on every request, never cached: a revocation that
 * has returned is seen by the next request on every replica.
 */
export async function loadAccessSnapshot(db: Sql, partnerId: string, subjectIds: readonly string[]): Promise<AccessSnapshot> {
  const [row] = await db.query<{ status: PartnerFacts['status']; scopes: string[]; purposes: string[]; consents: RawConsent[]; subjects: SubjectRow[] }>(
    `WITH live AS (
       SELECT c.id, c.subject_id, c.purpose, c.categories, c.expires_at, c.revoked_at
       FROM consents c
       WHERE c.partner_id = $1 AND c.revoked_at IS NULL AND c.expiry_recorded_at IS NULL
         AND c.subject_id = ANY($2::text[]))
     SELECT p.status, p.scopes, p.purposes,
            COALESCE((SELECT json_agg(json_build_object(
                        'id', l.id, 'subjectId', l.subject_id, 'purpose', l.purpose, 'categories', l.categories,
                        'expiresAt', l.expires_at, 'revokedAt', l.revoked_at))
                      FROM live l), '[]'::json) AS consents,
            COALESCE((SELECT json_agg(json_build_object(
                        'id', s.id, 'identity_verified', s.identity_verified, 'identity_level', s.identity_level,
                        'identity_verified_at', s.identity_verified_at, 'value', ss.value, 'band', ss.band,
                        'dimensions', ss.dimensions, 'factors', ss.factors, 'history', ss.history,
                        'as_of', ss.as_of, 'model', ss.model))
                      FROM subjects s LEFT JOIN score_summaries ss ON ss.subject_id = s.id
                      WHERE s.id = ANY($2::text[]) AND EXISTS (SELECT 1 FROM live l WHERE l.subject_id = s.id)), '[]'::json) AS subjects
     FROM partners p WHERE p.id = $1`,
    [partnerId, subjectIds],
  );
  const consentsBySubject = new Map<string, ConsentFacts[]>();
  const consentingSubjects = new Map<string, SubjectRecord>();
  if (!row) return { partner: null, consentsBySubject, consentingSubjects };
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
  for (const s of row.subjects) consentingSubjects.set(s.id, subjectFromRow(s));
  return {
    partner: { id: partnerId, status: row.status, approvedScopes: row.scopes, approvedPurposes: row.purposes },
    consentsBySubject,
    consentingSubjects,
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
