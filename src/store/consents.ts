import type { Sql } from './database.js';

export interface ConsentRecord {
  id: string;
  subjectId: string;
  partnerId: string;
  purpose: string;
  categories: string[];
  grantedAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  supersededBy: string | null;
  channel: string;
  requestId: string | null;
  policyVersion: string;
  receipt: string;
}

interface ConsentRow {
  id: string;
  subject_id: string;
  partner_id: string;
  purpose: string;
  categories: string[];
  granted_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  superseded_by: string | null;
  channel: string;
  request_id: string | null;
  policy_version: string;
  receipt: string;
}

export const consentFromRow = (r: ConsentRow): ConsentRecord => ({
  id: r.id,
  subjectId: r.subject_id,
  partnerId: r.partner_id,
  purpose: r.purpose,
  categories: r.categories,
  grantedAt: new Date(r.granted_at),
  expiresAt: new Date(r.expires_at),
  revokedAt: r.revoked_at ? new Date(r.revoked_at) : null,
  supersededBy: r.superseded_by,
  channel: r.channel,
  requestId: r.request_id,
  policyVersion: r.policy_version,
  receipt: r.receipt,
});

export async function insertConsent(db: Sql, c: Omit<ConsentRecord, 'revokedAt' | 'supersededBy'>): Promise<ConsentRecord> {
  const [row] = await db.query<ConsentRow>(
    `INSERT INTO consents (id, subject_id, partner_id, purpose, categories, granted_at, expires_at, channel, request_id, policy_version, receipt)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *`,
    [c.id, c.subjectId, c.partnerId, c.purpose, JSON.stringify(c.categories), c.grantedAt, c.expiresAt, c.channel, c.requestId, c.policyVersion, c.receipt],
  );
  return consentFromRow(row!);
}

export async function findConsent(db: Sql, id: string): Promise<ConsentRecord | undefined> {
  if (!isUuid(id)) return undefined;
  const [row] = await db.query<ConsentRow>('SELECT * FROM consents WHERE id = $1', [id]);
  return row && consentFromRow(row);
}

/** Unrevoked consents of (subject, partner, purpose): the ones a new consent supersedes. */
export async function supersedeConsents(db: Sql, key: { subjectId: string; partnerId: string; purpose: string }, by: string, at: Date): Promise<ConsentRecord[]> {
  const rows = await db.query<ConsentRow>(
    `UPDATE consents SET revoked_at = $4, superseded_by = $5
     WHERE subject_id = $1 AND partner_id = $2 AND purpose = $3 AND revoked_at IS NULL AND expires_at > $4
     RETURNING *`,
    [key.subjectId, key.partnerId, key.purpose, at, by],
  );
  return rows.map(consentFromRow);
}

export function isUuid(s: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
}

/** A subject's consents, newest first; only those neither revoked nor run out unless `includeInactive`. */
export async function listSubjectConsents(db: Sql, subjectId: string, options: { includeInactive: boolean; now: Date }): Promise<ConsentRecord[]> {
  const rows = await db.query<ConsentRow>(
    `SELECT * FROM consents
     WHERE subject_id = $1 AND ($2::boolean OR (revoked_at IS NULL AND expires_at > $3))
     ORDER BY granted_at DESC, id`,
    [subjectId, options.includeInactive, options.now],
  );
  return rows.map(consentFromRow);
}

/** Consents by id, one round trip (a request's resulting consent, a page's list). */
export async function findConsents(db: Sql, ids: readonly string[]): Promise<Map<string, ConsentRecord>> {
  const valid = ids.filter(isUuid);
  if (!valid.length) return new Map();
  const rows = await db.query<ConsentRow>('SELECT * FROM consents WHERE id = ANY($1::uuid[])', [valid]);
  return new Map(rows.map((r) => [r.id, consentFromRow(r)]));
}

/**
 * Sets revoked_at on the consent if it is still active at `at` and, when
 * `subjectId` is given, belongs to that subject. Undefined when it is not the
 * subject's, already revoked or run out: the caller tells those apart.
 */
export async function markConsentRevoked(db: Sql, id: string, subjectId: string | null, at: Date): Promise<ConsentRecord | undefined> {
  if (!isUuid(id)) return undefined;
  const [row] = await db.query<ConsentRow>(
    `UPDATE consents SET revoked_at = $3
     WHERE id = $1 AND ($2::text IS NULL OR subject_id = $2) AND revoked_at IS NULL AND expires_at > $3
     RETURNING *`,
    [id, subjectId, at],
  );
  return row && consentFromRow(row);
}

/** Ids of the subject's consents live at `now` (neither revoked nor run out), oldest first. */
export async function listLiveConsentIds(db: Sql, subjectId: string, now: Date): Promise<string[]> {
  const rows = await db.query<{ id: string }>(
    'SELECT id FROM consents WHERE subject_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY granted_at',
    [subjectId, now],
  );
  return rows.map((r) => r.id);
}

/** Erasure: the subject's consent rows keep only its pseudonym, and their receipts (which name it) are emptied. Returns how many. */
export async function pseudonymiseConsents(db: Sql, subjectId: string, pseudonym: string): Promise<number> {
  const rows = await db.query(`UPDATE consents SET subject_id = $2, receipt = '' WHERE subject_id = $1 RETURNING id`, [subjectId, pseudonym]);
  return rows.length;
}
