import type { AuditLog } from '../audit/auditLog.js';
import { csvCell } from '../audit/auditExport.js';
import { subjectEventsWhere, type SubjectEventIds, type SubjectPseudonyms } from '../audit/subjectPseudonyms.js';
import type { Clock } from '../clock.js';
import { consentStatus } from '../consent/subjectConsents.js';
import type { Sql } from '../store/database.js';
import { listSubjectConsents, type ConsentRecord } from '../store/consents.js';
import { listRequestsOf, type ConsentRequestRecord } from '../store/consentRequests.js';

export type SubjectRecordFormat = 'json' | 'csv';
export const SUBJECT_RECORD_FORMAT = 'consentry-subject-record';
export const SUBJECT_RECORD_VERSION = 1;
/** Access events per round trip: the log is paged through, never held whole. */
export const RECORD_PAGE_SIZE = 1000;

export interface SubjectRecordDeps {
  db: Sql;
  auditLog: AuditLog;
  pseudonyms: SubjectPseudonyms;
  clock: Clock;
  issuer: string;
}

/** One read of the subject, as in the record (docs/subject-record.md). */
export interface RecordedAccess {
  seq: string;
  at: string;
  partnerId: string | null;
  partnerName: string | null;
  purpose: string | null;
  released: string[];
  denied: { category: string; code: string }[];
  consentIds: string[];
}

/**
 * The subject's copy of everything the gateway holds about it (GDPR Art. 15
 * and 20, PIPL Art. 45, FCRA §609) as text chunks for a stream. The export is
 * an access like any other: its `subject.record_exported` event is committed
 * before the first byte, and if it cannot be, this rejects
 * (AuditUnavailableError, 503) and nothing is sent.
 */
export async function subjectRecord(
  deps: SubjectRecordDeps,
  subjectId: string,
  options: { format: SubjectRecordFormat; channel: 'page' | 'api' },
): Promise<AsyncGenerator<string>> {
  const now = deps.clock();
  const eventIds = await deps.pseudonyms.eventIdsOf(deps.db, subjectId);
  const pseudonym = eventIds.pseudonyms[0]!;
  await deps.auditLog.append([
    {
      kind: 'subject.record_exported',
      at: now,
      actorType: 'subject',
      actorId: pseudonym,
      subjectId: pseudonym,
      details: { format: options.format, channel: options.channel },
    },
  ]);
  const parts: RecordParts = { deps, subjectId, eventIds, now };
  return options.format === 'json' ? jsonRecord(parts) : csvRecord(parts);
}

interface RecordParts {
  deps: SubjectRecordDeps;
  subjectId: string;
  eventIds: SubjectEventIds;
  now: Date;
}

interface ScoreRow {
  identity_verified: boolean;
  identity_level: string | null;
  identity_verified_at: Date | null;
  value: number | null;
  band: string | null;
  dimensions: Record<string, number> | null;
  factors: { code: string; description: string }[] | null;
  history: { month: string; value: number }[] | null;
  as_of: Date | null;
  model: string | null;
  updated_at: Date | null;
}

async function readHeld(parts: RecordParts) {
  const { db } = parts.deps;
  const [[row], consents, requests] = await Promise.all([
    db.query<ScoreRow>(
      `SELECT s.identity_verified, s.identity_level, s.identity_verified_at, ss.value, ss.band, ss.dimensions, ss.factors,
              ss.history, ss.as_of, ss.model, ss.updated_at
       FROM subjects s LEFT JOIN score_summaries ss ON ss.subject_id = s.id WHERE s.id = $1`,
      [parts.subjectId],
    ),
    listSubjectConsents(db, parts.subjectId, { includeInactive: true, now: parts.now }),
    listRequestsOf(db, parts.subjectId),
  ]);
  const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);
  return {
    identity: row ? { verified: row.identity_verified, level: row.identity_level, verifiedAt: iso(row.identity_verified_at) } : null,
    score:
      row && row.value !== null
        ? {
            value: row.value,
            band: row.band,
            dimensions: row.dimensions,
            factors: row.factors,
            history: row.history,
            asOf: iso(row.as_of),
            model: row.model,
            updatedAt: iso(row.updated_at),
          }
        : null,
    consents: consents.map((c) => consentEntry(c, parts.now)),
    consentRequests: requests.map((r) => requestEntry(r, parts.now)),
  };
}

function consentEntry(c: ConsentRecord, now: Date) {
  return {
    id: c.id,
    partnerId: c.partnerId,
    purpose: c.purpose,
    categories: c.categories,
    status: consentStatus(c, now),
    grantedAt: c.grantedAt.toISOString(),
    expiresAt: c.expiresAt.toISOString(),
    revokedAt: c.revokedAt?.toISOString() ?? null,
    channel: c.channel,
    requestId: c.requestId,
    policyVersion: c.policyVersion,
    receipt: c.receipt,
  };
}

function requestEntry(r: ConsentRequestRecord, now: Date) {
  // A request whose answer window passed reads as EXPIRED even before anyone recorded it.
  const status = r.status === 'PENDING' && r.expiresAt <= now ? 'EXPIRED' : r.status;
  return {
    id: r.id,
    partnerId: r.partnerId,
    purpose: r.purpose,
    categories: r.categories,
    durationDays: r.durationDays,
    status,
    createdAt: r.createdAt.toISOString(),
    expiresAt: r.expiresAt.toISOString(),
    decidedAt: r.decidedAt?.toISOString() ?? null,
    consentId: r.consentId,
  };
}

/** The subject's access events in ascending seq, one page in memory at a time (keyset pagination on seq). */
async function* accessPages(parts: RecordParts): AsyncGenerator<RecordedAccess[]> {
  let afterSeq = '0';
  for (;;) {
    const params: unknown[] = [afterSeq, RECORD_PAGE_SIZE];
    const about = subjectEventsWhere(parts.eventIds, params);
    const rows = await parts.deps.db.query<{
      seq: string;
      at: Date;
      partner_id: string | null;
      partner_name: string | null;
      purpose: string | null;
      released: string[];
      denied: { category: string; code: string }[];
      consent_ids: string[];
    }>(
      `SELECT e.seq::text AS seq, e.at, e.partner_id, p.name AS partner_name, e.purpose, e.released, e.denied, e.consent_ids
       FROM audit_events e LEFT JOIN partners p ON p.id = e.partner_id
       WHERE e.kind = 'access' AND e.seq > $1::bigint AND ${about}
       ORDER BY e.seq LIMIT $2`,
      params,
    );
    if (rows.length) {
      yield rows.map((r) => ({
        seq: r.seq,
        at: new Date(r.at).toISOString(),
        partnerId: r.partner_id,
        partnerName: r.partner_name,
        purpose: r.purpose,
        released: r.released,
        denied: r.denied.map((d) => ({ category: d.category, code: d.code })),
        consentIds: r.consent_ids,
      }));
    }
    if (rows.length < RECORD_PAGE_SIZE) return;
    afterSeq = rows[rows.length - 1]!.seq;
  }
}

async function* jsonRecord(parts: RecordParts): AsyncGenerator<string> {
  const held = await readHeld(parts);
  const head = {
    format: SUBJECT_RECORD_FORMAT,
    version: SUBJECT_RECORD_VERSION,
    issuer: parts.deps.issuer,
    exportedAt: parts.now.toISOString(),
    subjectId: parts.subjectId,
    ...held,
  };
  // The object is written open-ended so the access log can follow it entry by entry.
  yield `${JSON.stringify(head).slice(0, -1)},"accessLog":[`;
  let first = true;
  for await (const page of accessPages(parts)) {
    yield (first ? '' : ',') + page.map((a) => JSON.stringify(a)).join(',');
    first = false;
  }
  yield ']}\n';
}

export const RECORD_CSV_COLUMNS = [
  'record',
  'id',
  'at',
  'partnerId',
  'partnerName',
  'purpose',
  'categories',
  'status',
  'expiresAt',
  'revokedAt',
  'released',
  'denied',
  'detail',
] as const;

type CsvRow = Partial<Record<(typeof RECORD_CSV_COLUMNS)[number], string | null>>;

const csvLine = (row: CsvRow) => `${RECORD_CSV_COLUMNS.map((c) => csvCell(row[c] ?? null)).join(',')}\r\n`;

async function* csvRecord(parts: RecordParts): AsyncGenerator<string> {
  const held = await readHeld(parts);
  yield `${RECORD_CSV_COLUMNS.join(',')}\r\n`;
  const lines: CsvRow[] = [{ record: 'subject', id: parts.subjectId, at: parts.now.toISOString(), detail: parts.deps.issuer }];
  if (held.identity) lines.push({ record: 'identity', id: parts.subjectId, at: held.identity.verifiedAt, status: held.identity.verified ? 'VERIFIED' : 'NOT_VERIFIED', detail: held.identity.level });
  if (held.score) lines.push({ record: 'score', id: parts.subjectId, at: held.score.asOf, status: held.score.band, detail: JSON.stringify(held.score) });
  for (const c of held.consents) {
    lines.push({
      record: 'consent',
      id: c.id,
      at: c.grantedAt,
      partnerId: c.partnerId,
      purpose: c.purpose,
      categories: c.categories.join(' '),
      status: c.status,
      expiresAt: c.expiresAt,
      revokedAt: c.revokedAt,
      detail: c.receipt,
    });
  }
  for (const r of held.consentRequests) {
    lines.push({ record: 'consent_request', id: r.id, at: r.createdAt, partnerId: r.partnerId, purpose: r.purpose, categories: r.categories.join(' '), status: r.status, expiresAt: r.expiresAt });
  }
  yield lines.map(csvLine).join('');
  for await (const page of accessPages(parts)) {
    yield page
      .map((a) =>
        csvLine({
          record: 'access',
          id: a.seq,
          at: a.at,
          partnerId: a.partnerId,
          partnerName: a.partnerName,
          purpose: a.purpose,
          released: a.released.join(' '),
          denied: a.denied.map((d) => `${d.category}:${d.code}`).join(' '),
          detail: a.consentIds.join(' '),
        }),
      )
      .join('');
  }
}
