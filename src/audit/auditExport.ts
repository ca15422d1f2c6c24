import type { Database } from '../store/database.js';
import { canonicalJson } from './canonical.js';
import { GENESIS_HASH, type AuditEvent } from './chain.js';
import { checkpointsInRange } from './checkpoints.js';
import { isTimeRangeOnly, type AuditEventFilter } from './auditFilter.js';
import { STREAM_PAGE_SIZE, readChainHead, readEventPage, seqRangeForTimes } from './storedEvents.js';
import type { ChainExtent } from './verifyChain.js';

export type ExportFormat = 'csv' | 'ndjson';
export const EXPORT_FORMAT_NAME = 'consentry-audit-export';
export const EXPORT_VERSION = 1;

/** The first NDJSON line: what the file holds and how to check it. */
export interface ExportHeader {
  type: 'header';
  format: typeof EXPORT_FORMAT_NAME;
  version: typeof EXPORT_VERSION;
  issuer: string;
  exportedAt: string;
  extent: ChainExtent;
  filter: AuditEventFilter;
  hash: 'sha256';
  genesisHash: string;
}

export interface ExportOptions {
  format: ExportFormat;
  filter?: AuditEventFilter;
  issuer: string;
  now: Date;
  pageSize?: number;
}

/**
 * The audit log as text chunks (one chunk per page of events), for a stream
 * that applies backpressure: nothing is read from the database before the
 * consumer has taken the previous chunk.
 *
 * NDJSON holds everything an offline verifier needs: a header, the signed
 * checkpoints, then every event exactly as hashed. A time range is widened
 * to a contiguous stretch of seqs so it remains one verifiable chain; other
 * filters produce a selection whose events are checked one by one.
 */
export async function* exportAudit(db: Database, options: ExportOptions): AsyncGenerator<string> {
  const filter = options.filter ?? {};
  if (options.format === 'csv') {
    yield `${CSV_COLUMNS.join(',')}\r\n`;
    for await (const page of eventPages(db, { filter }, options.pageSize)) yield page.map(csvRow).join('');
    return;
  }
  const selection = await selectChain(db, filter);
  const header: ExportHeader = {
    type: 'header',
    format: EXPORT_FORMAT_NAME,
    version: EXPORT_VERSION,
    issuer: options.issuer,
    exportedAt: options.now.toISOString(),
    extent: selection.extent,
    filter: Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined && v !== null && v !== '')),
    hash: 'sha256',
    genesisHash: GENESIS_HASH,
  };
  yield `${JSON.stringify(header)}\n`;
  yield selection.checkpoints.map((cp) => `${JSON.stringify({ type: 'checkpoint', ...cp })}\n`).join('');
  if (!selection.range) return;
  for await (const page of eventPages(db, selection.range, options.pageSize)) {
    yield page.map((e) => `${JSON.stringify({ type: 'event', ...e })}\n`).join('');
  }
}

interface ChainSelection {
  extent: ChainExtent;
  checkpoints: Awaited<ReturnType<typeof checkpointsInRange>>;
  range?: { afterSeq?: string; throughSeq: string; filter?: AuditEventFilter };
}

async function selectChain(db: Database, filter: AuditEventFilter): Promise<ChainSelection> {
  // Checkpoints before the head: everything they vouch for is then at or below the head read next.
  if (isTimeRangeOnly(filter) && !filter.from && !filter.to) {
    const checkpoints = await checkpointsInRange(db);
    const head = await readChainHead(db);
    return { extent: 'complete', checkpoints, range: { throughSeq: head.seq } };
  }
  if (isTimeRangeOnly(filter)) {
    const seqs = await seqRangeForTimes(db, filter.from ?? undefined, filter.to ?? undefined);
    if (!seqs) return { extent: 'range', checkpoints: [] };
    const checkpoints = await checkpointsInRange(db, seqs);
    const afterSeq = (BigInt(seqs.first) - 1n).toString();
    return { extent: seqs.first === '1' ? 'complete' : 'range', checkpoints, range: { afterSeq, throughSeq: seqs.last } };
  }
  const head = await readChainHead(db);
  const checkpoints = await checkpointsInRange(db, { last: head.seq });
  return { extent: 'filtered', checkpoints, range: { throughSeq: head.seq, filter } };
}

async function* eventPages(
  db: Database,
  query: { afterSeq?: string; throughSeq?: string; filter?: AuditEventFilter },
  pageSize = STREAM_PAGE_SIZE,
): AsyncGenerator<AuditEvent[]> {
  let afterSeq = query.afterSeq;
  for (;;) {
    const page = await readEventPage(db, { ...query, afterSeq, limit: pageSize });
    if (page.length) yield page;
    if (page.length < pageSize) return;
    afterSeq = page[page.length - 1]!.seq;
  }
}

export const CSV_COLUMNS = [
  'seq',
  'at',
  'kind',
  'actor',
  'partnerId',
  'subjectId',
  'purpose',
  'requestId',
  'released',
  'denied',
  'consentIds',
  'details',
  'prevHash',
  'hash',
] as const;

function csvRow(e: AuditEvent): string {
  const cells = [
    e.seq,
    e.at,
    e.kind,
    actorOf(e),
    e.partnerId,
    e.subjectId,
    e.purpose,
    e.requestId,
    e.released.join(' '),
    e.denied.map((d) => `${d.category}:${d.code}`).join(' '),
    e.consentIds.join(' '),
    canonicalJson(e.details),
    e.prevHash,
    e.hash,
  ];
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/** "<actorType>:<actorId>", the form officers see everywhere. */
export function actorOf(e: Pick<AuditEvent, 'actorType' | 'actorId'>): string {
  return `${e.actorType}:${e.actorId ?? ''}`;
}

/**
 * RFC 4180 quoting, plus a leading apostrophe on cells a spreadsheet would run
 * as a formula: subject ids come from partners, and an officer opening the
 * export must not execute what a partner typed.
 */
export function csvCell(value: string | null): string {
  let v = value ?? '';
  if (/^[=+\-@\t\r]/.test(v)) v = `'${v}`;
  return /[",\r\n']/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}
