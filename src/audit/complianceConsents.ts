import { BadUserInputError } from '../errors.js';
import type { Sql } from '../store/database.js';
import { consentFromRow, type ConsentRecord } from '../store/consents.js';

export type ConsentStatus = 'ACTIVE' | 'REVOKED' | 'EXPIRED';

export interface ConsentListFilter {
  partnerId?: string | null;
  subjectId?: string | null;
  purpose?: string | null;
  /** INACTIVE: revoked or run out, whichever (what an operator clearing up asks for). */
  status?: ConsentStatus | 'INACTIVE' | null;
}

export interface ListedConsent extends ConsentRecord {
  status: ConsentStatus;
  cursor: string;
}

/** A revocation wins over expiry: a consent revoked before it ran out is REVOKED. */
export function consentStatus(c: Pick<ConsentRecord, 'revokedAt' | 'expiresAt'>, now: Date): ConsentStatus {
  if (c.revokedAt) return 'REVOKED';
  return c.expiresAt > now ? 'ACTIVE' : 'EXPIRED';
}

const STATUS_SQL: Record<ConsentStatus | 'INACTIVE', string> = {
  ACTIVE: 'revoked_at IS NULL AND expires_at > $now',
  REVOKED: 'revoked_at IS NOT NULL',
  EXPIRED: 'revoked_at IS NULL AND expires_at <= $now',
  INACTIVE: '(revoked_at IS NOT NULL OR expires_at <= $now)',
};

/**
 * Consents for officers, oldest grant first, with keyset cursors over
 * (granted_at, id) so pages stay stable while consents are added. Status is
 * computed against the clock, never stored, so it is never stale.
 */
export async function listConsents(
  db: Sql,
  input: { filter: ConsentListFilter; first: number; after?: string | null; now: Date },
): Promise<{ consents: ListedConsent[]; hasNextPage: boolean }> {
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  const { filter } = input;
  if (filter.partnerId) where.push(`partner_id = ${param(filter.partnerId)}`);
  if (filter.subjectId) where.push(`subject_id = ${param(filter.subjectId)}`);
  if (filter.purpose) where.push(`purpose = ${param(filter.purpose)}`);
  if (filter.status) {
    const sql = STATUS_SQL[filter.status];
    // PostgreSQL refuses a parameter no clause uses, so the clock goes in only where a status needs it.
    where.push(sql.includes('$now') ? sql.replaceAll('$now', `${param(input.now)}::timestamptz`) : sql);
  }
  const after = decodeConsentCursor(input.after);
  if (after) where.push(`(granted_at, id) > (${param(after.grantedAt)}::timestamptz, ${param(after.id)}::uuid)`);
  const rows = await db.query<Parameters<typeof consentFromRow>[0]>(
    `SELECT * FROM consents ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY granted_at, id LIMIT ${param(input.first + 1)}`,
    params,
  );
  const consents = rows.slice(0, input.first).map((row) => {
    const c = consentFromRow(row);
    return { ...c, status: consentStatus(c, input.now), cursor: encodeConsentCursor(c) };
  });
  return { consents, hasNextPage: rows.length > input.first };
}

function encodeConsentCursor(c: ConsentRecord): string {
  return Buffer.from(`consent:${c.grantedAt.toISOString()}|${c.id}`).toString('base64url');
}

function decodeConsentCursor(cursor: string | null | undefined): { grantedAt: string; id: string } | undefined {
  if (!cursor) return undefined;
  const match = /^consent:([\d\-T:.Z]+)\|([0-9a-f-]{36})$/i.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match || Number.isNaN(new Date(match[1]!).getTime())) {
    throw new BadUserInputError('The cursor is not valid; use an endCursor from a previous page.', { argument: 'after' });
  }
  return { grantedAt: match[1]!, id: match[2]! };
}
