import type { Sql } from '../store/database.js';
import type { ActorType, AuditEvent } from './chain.js';
import { auditFilterSql, type AuditEventFilter } from './auditFilter.js';

/** Rows per round trip when streaming: large enough to be fast, small enough for constant memory. */
export const STREAM_PAGE_SIZE = 5000;

/**
 * The columns as the chain hashed them. `at` is rendered by the database with
 * microseconds, and shortened to JavaScript's millisecond ISO form only when
 * the extra digits are zero: a time altered below the millisecond then fails
 * its hash instead of being rounded back to the original.
 */
const EVENT_COLUMNS = `seq::text AS seq,
  to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS at,
  kind, actor_type, actor_id, partner_id, subject_id, purpose, request_id,
  released, denied, consent_ids, details, prev_hash, hash`;

interface AuditEventRow {
  seq: string;
  at: string;
  kind: string;
  actor_type: ActorType;
  actor_id: string | null;
  partner_id: string | null;
  subject_id: string | null;
  purpose: string | null;
  request_id: string | null;
  released: string[];
  denied: { category: string; code: string }[];
  consent_ids: string[];
  details: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

function eventFromRow(r: AuditEventRow): AuditEvent {
  return {
    seq: r.seq,
    at: isoFromDatabase(r.at),
    kind: r.kind,
    actorType: r.actor_type,
    actorId: r.actor_id,
    partnerId: r.partner_id,
    subjectId: r.subject_id,
    purpose: r.purpose,
    requestId: r.request_id,
    released: r.released,
    denied: r.denied,
    consentIds: r.consent_ids,
    details: r.details,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

function isoFromDatabase(micro: string): string {
  return micro.endsWith('000') ? `${micro.slice(0, -3)}Z` : `${micro}Z`;
}

export interface EventPageQuery {
  /** Only events with a greater seq (keyset pagination). */
  afterSeq?: string;
  /** Only events with a seq up to this one. */
  throughSeq?: string;
  filter?: AuditEventFilter;
  /**
   * Leave out events an erasure hid because they still name the erased
   * subject linkably (docs/audit-chain.md, section 7): officers' everyday
   * views. Exports and verification never do, so the chain stays whole.
   */
  hideErased?: boolean;
  limit: number;
}

/** One page of events in ascending seq order. */
export async function readEventPage(db: Sql, query: EventPageQuery): Promise<AuditEvent[]> {
  const { where, params } = auditFilterSql(query.filter ?? {});
  if (query.afterSeq !== undefined) {
    params.push(query.afterSeq);
    where.push(`seq > $${params.length}::bigint`);
  }
  if (query.throughSeq !== undefined) {
    params.push(query.throughSeq);
    where.push(`seq <= $${params.length}::bigint`);
  }
  if (query.hideErased) where.push('NOT EXISTS (SELECT 1 FROM erased_subject_events x WHERE x.seq = audit_events.seq)');
  params.push(query.limit);
  const rows = await db.query<AuditEventRow>(
    `SELECT ${EVENT_COLUMNS} FROM audit_events
     ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY audit_events.seq LIMIT $${params.length}`,
    params,
  );
  return rows.map(eventFromRow);
}

/**
 * Every matching event in seq order, one page in memory at a time. Keyset
 * pagination on seq (never OFFSET), so the cost per page stays flat over
 * millions of events and concurrent appends are neither skipped nor repeated.
 */
export async function* streamEvents(
  db: Sql,
  options: Omit<EventPageQuery, 'limit'> & { pageSize?: number } = {},
): AsyncGenerator<AuditEvent> {
  const pageSize = options.pageSize ?? STREAM_PAGE_SIZE;
  let afterSeq = options.afterSeq;
  for (;;) {
    const page = await readEventPage(db, { ...options, afterSeq, limit: pageSize });
    yield* page;
    if (page.length < pageSize) return;
    afterSeq = page[page.length - 1]!.seq;
  }
}

/** The chain head as the writer recorded it. */
export async function readChainHead(db: Sql): Promise<{ seq: string; hash: string }> {
  const [head] = await db.query<{ seq: string; hash: string }>('SELECT seq::text AS seq, hash FROM audit_head WHERE id = 1');
  if (!head) throw new Error('audit head row missing');
  return head;
}

/** The stored hash of the event at `seq` (committed, as every position a checkpoint decision looks at is). */
export async function readEventHash(db: Sql, seq: bigint): Promise<string> {
  const [row] = await db.query<{ hash: string }>('SELECT hash FROM audit_events WHERE seq = $1', [seq.toString()]);
  if (!row) throw new Error(`no audit event at seq ${seq}`);
  return row.hash;
}

/**
 * The contiguous seq range covering events in [from, to). Event times follow
 * seq only approximately (they are the request's decision time), so a time
 * range is widened to whole seq span: an export of it stays one unbroken chain.
 */
export async function seqRangeForTimes(db: Sql, from?: string, to?: string): Promise<{ first: string; last: string } | undefined> {
  const { where, params } = auditFilterSql({ from, to });
  const [row] = await db.query<{ first: string | null; last: string | null }>(
    `SELECT min(seq)::text AS first, max(seq)::text AS last FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`,
    params,
  );
  return row?.first && row.last ? { first: row.first, last: row.last } : undefined;
}
