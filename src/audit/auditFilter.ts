import { BadUserInputError } from '../errors.js';

/** What officers filter the audit log by; every member optional, combined with AND. */
export interface AuditEventFilter {
  partnerId?: string | null;
  subjectId?: string | null;
  kind?: string | null;
  /** RELEASED: something was released; DENIED: something was denied. */
  decision?: 'RELEASED' | 'DENIED' | null;
  denialCode?: string | null;
  purpose?: string | null;
  /** Released or denied. */
  category?: string | null;
  /** Inclusive, ISO-8601. */
  from?: string | null;
  /** Exclusive, ISO-8601. */
  to?: string | null;
}

/** WHERE clauses (joined by AND) and their parameters; callers append their own after these. */
export function auditFilterSql(filter: AuditEventFilter): { where: string[]; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  if (filter.partnerId) where.push(`partner_id = ${param(filter.partnerId)}`);
  if (filter.subjectId) where.push(`subject_id = ${param(filter.subjectId)}`);
  if (filter.kind) where.push(`kind = ${param(filter.kind)}`);
  if (filter.purpose) where.push(`purpose = ${param(filter.purpose)}`);
  if (filter.decision === 'RELEASED') where.push(`jsonb_array_length(released) > 0`);
  if (filter.decision === 'DENIED') where.push(`jsonb_array_length(denied) > 0`);
  if (filter.denialCode) where.push(`denied @> jsonb_build_array(jsonb_build_object('code', ${param(filter.denialCode)}::text))`);
  if (filter.category) {
    const c = param(filter.category);
    where.push(`(released @> jsonb_build_array(${c}::text) OR denied @> jsonb_build_array(jsonb_build_object('category', ${c}::text)))`);
  }
  if (filter.from) where.push(`at >= ${param(isoTime(filter.from, 'from'))}::timestamptz`);
  if (filter.to) where.push(`at < ${param(isoTime(filter.to, 'to'))}::timestamptz`);
  return { where, params };
}

function isoTime(value: string, name: string): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new BadUserInputError(`${name} must be an ISO-8601 date-time.`, { argument: name });
  return date.toISOString();
}

/** True when the filter selects a contiguous stretch of the chain (nothing but a time range). */
export function isTimeRangeOnly(filter: AuditEventFilter): boolean {
  return !filter.partnerId && !filter.subjectId && !filter.kind && !filter.decision && !filter.denialCode && !filter.purpose && !filter.category;
}

/** Opaque Relay cursors over seq: clients must not build them, so their encoding may change. */
export function encodeSeqCursor(seq: string): string {
  return Buffer.from(`seq:${seq}`).toString('base64url');
}

export function decodeSeqCursor(cursor: string | null | undefined): string | undefined {
  if (cursor === null || cursor === undefined || cursor === '') return undefined;
  const match = /^seq:(\d{1,19})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) throw new BadUserInputError('The cursor is not valid; use an endCursor from a previous page.', { argument: 'after' });
  return match[1];
}
