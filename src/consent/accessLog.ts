import { subjectEventsWhere, type SubjectPseudonyms } from '../audit/subjectPseudonyms.js';
import { BadUserInputError } from '../errors.js';
import type { Sql } from '../store/database.js';

export const MAX_ACCESS_LOG_PAGE = 200;

export interface AccessLogEntry {
  seq: string;
  at: Date;
  partnerId: string;
  partnerName: string | null;
  purpose: string;
  released: string[];
  /** Categories asked for and refused, whatever the reason. */
  denied: string[];
}

export interface AccessLogPage {
  edges: { cursor: string; node: AccessLogEntry }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/** Opaque to clients; base64 of the audit sequence number, so pages stay stable while new reads arrive. */
export const accessLogCursor = (seq: string): string => Buffer.from(seq, 'utf8').toString('base64');

export function seqFromCursor(cursor: string): string {
  const seq = Buffer.from(cursor, 'base64').toString('utf8');
  if (!/^\d{1,19}$/.test(seq)) throw new BadUserInputError('after is not a cursor from this connection.', { field: 'after' });
  return seq;
}

/**
 * Who read which categories of the subject, when and for what: every `access`
 * audit event about the subject, newest first. Denied reads are included:
 * a subject should see a partner asking without consent too. Events name the
 * subject by pseudonym (and, before pseudonyms, by id): all are looked for.
 */
export async function subjectAccessLog(
  db: Sql,
  pseudonyms: SubjectPseudonyms,
  subjectId: string,
  page: { first?: number | null; after?: string | null },
): Promise<AccessLogPage> {
  const first = page.first ?? 50;
  if (!Number.isInteger(first) || first < 1 || first > MAX_ACCESS_LOG_PAGE) {
    throw new BadUserInputError(`first must be between 1 and ${MAX_ACCESS_LOG_PAGE}.`, { field: 'first' });
  }
  const before = page.after ? seqFromCursor(page.after) : null;
  const params: unknown[] = [before, first + 1];
  const aboutSubject = subjectEventsWhere(await pseudonyms.eventIdsOf(db, subjectId), params);
  const rows = await db.query<{
    seq: string;
    at: Date;
    partner_id: string;
    partner_name: string | null;
    purpose: string;
    released: string[];
    denied: { category: string }[];
  }>(
    `SELECT e.seq::text AS seq, e.at, e.partner_id, p.name AS partner_name, e.purpose, e.released, e.denied
     FROM audit_events e LEFT JOIN partners p ON p.id = e.partner_id
     WHERE e.kind = 'access' AND ($1::bigint IS NULL OR e.seq < $1::bigint) AND ${aboutSubject}
     ORDER BY e.seq DESC
     LIMIT $2`,
    params,
  );
  const edges = rows.slice(0, first).map((r) => ({
    cursor: accessLogCursor(r.seq),
    node: {
      seq: r.seq,
      at: new Date(r.at),
      partnerId: r.partner_id,
      partnerName: r.partner_name,
      purpose: r.purpose,
      released: r.released,
      denied: r.denied.map((d) => d.category),
    },
  }));
  return { edges, pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null } };
}
