import { isUuid } from './consents.js';
import type { Sql } from './database.js';

export type ConsentRequestStatus = 'PENDING' | 'APPROVED' | 'DECLINED' | 'EXPIRED';

export interface ConsentRequestRecord {
  id: string;
  partnerId: string;
  subjectId: string;
  purpose: string;
  categories: string[];
  durationDays: number;
  redirectUri: string | null;
  status: ConsentRequestStatus;
  createdAt: Date;
  expiresAt: Date;
  decidedAt: Date | null;
  consentId: string | null;
}

interface ConsentRequestRow {
  id: string;
  partner_id: string;
  subject_id: string;
  purpose: string;
  categories: string[];
  duration_days: number;
  redirect_uri: string | null;
  status: ConsentRequestStatus;
  created_at: Date;
  expires_at: Date;
  decided_at: Date | null;
  consent_id: string | null;
}

const fromRow = (r: ConsentRequestRow): ConsentRequestRecord => ({
  id: r.id,
  partnerId: r.partner_id,
  subjectId: r.subject_id,
  purpose: r.purpose,
  categories: r.categories,
  durationDays: r.duration_days,
  redirectUri: r.redirect_uri,
  status: r.status,
  createdAt: new Date(r.created_at),
  expiresAt: new Date(r.expires_at),
  decidedAt: r.decided_at ? new Date(r.decided_at) : null,
  consentId: r.consent_id,
});

export type NewConsentRequest = Omit<ConsentRequestRecord, 'status' | 'decidedAt' | 'consentId'>;

export async function insertConsentRequest(db: Sql, r: NewConsentRequest): Promise<ConsentRequestRecord> {
  const [row] = await db.query<ConsentRequestRow>(
    `INSERT INTO consent_requests (id, partner_id, subject_id, purpose, categories, duration_days, redirect_uri, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
    [r.id, r.partnerId, r.subjectId, r.purpose, JSON.stringify(r.categories), r.durationDays, r.redirectUri, r.createdAt, r.expiresAt],
  );
  return fromRow(row!);
}

export async function findConsentRequest(db: Sql, id: string): Promise<ConsentRequestRecord | undefined> {
  if (!isUuid(id)) return undefined;
  const [row] = await db.query<ConsentRequestRow>('SELECT * FROM consent_requests WHERE id = $1', [id]);
  return row && fromRow(row);
}

/**
 * Moves a request from PENDING to a decision, only if it is still pending and
 * unexpired at `at`. The condition in the UPDATE is what makes two racing
 * decisions on one request end with exactly one winner.
 */
export async function decideConsentRequest(
  db: Sql,
  id: string,
  decision: { status: 'APPROVED' | 'DECLINED'; at: Date; consentId?: string | null },
): Promise<ConsentRequestRecord | undefined> {
  const [row] = await db.query<ConsentRequestRow>(
    `UPDATE consent_requests SET status = $2, decided_at = $3, consent_id = $4
     WHERE id = $1 AND status = 'PENDING' AND expires_at > $3
     RETURNING *`,
    [id, decision.status, decision.at, decision.consentId ?? null],
  );
  return row && fromRow(row);
}

/** Marks a pending request whose answer window has passed as EXPIRED; undefined if it was not. */
export async function expireConsentRequest(db: Sql, id: string, at: Date): Promise<ConsentRequestRecord | undefined> {
  const [row] = await db.query<ConsentRequestRow>(
    `UPDATE consent_requests SET status = 'EXPIRED', decided_at = expires_at
     WHERE id = $1 AND status = 'PENDING' AND expires_at <= $2
     RETURNING *`,
    [id, at],
  );
  return row && fromRow(row);
}

/** Requests still waiting for the subject's answer, newest first. */
export async function listPendingRequestsOf(db: Sql, subjectId: string, now: Date): Promise<ConsentRequestRecord[]> {
  const rows = await db.query<ConsentRequestRow>(
    `SELECT * FROM consent_requests WHERE subject_id = $1 AND status = 'PENDING' AND expires_at > $2 ORDER BY created_at DESC LIMIT 100`,
    [subjectId, now],
  );
  return rows.map(fromRow);
}

/** Every request addressed to the subject, whatever its status, newest first (the subject's record). */
export async function listRequestsOf(db: Sql, subjectId: string): Promise<ConsentRequestRecord[]> {
  const rows = await db.query<ConsentRequestRow>('SELECT * FROM consent_requests WHERE subject_id = $1 ORDER BY created_at DESC, id', [subjectId]);
  return rows.map(fromRow);
}

/** Erasure: the subject's consent requests keep only its pseudonym. Returns how many. */
export async function pseudonymiseConsentRequests(db: Sql, subjectId: string, pseudonym: string): Promise<number> {
  const rows = await db.query('UPDATE consent_requests SET subject_id = $2 WHERE subject_id = $1 RETURNING id', [subjectId, pseudonym]);
  return rows.length;
}
