import type { AuditEvent } from './chain.js';
import type { StoredCheckpoint } from './checkpoints.js';
import { EXPORT_FORMAT_NAME, type ExportHeader } from './auditExport.js';

/** The export file is not a Consentry NDJSON audit export (or is damaged beyond one event). */
export class ExportFormatError extends Error {
  readonly code = 'EXPORT_MALFORMED';
}

export interface AuditExportContents {
  header: ExportHeader;
  checkpoints: StoredCheckpoint[];
  /** Streamed: read once, in file order. */
  events: AsyncIterable<AuditEvent>;
}

/**
 * Reads an NDJSON export: the header and the checkpoints up front (they come
 * first and are few), the events as a stream so a file of millions of events
 * is checked in constant memory.
 */
export async function readAuditExport(lines: AsyncIterable<string>): Promise<AuditExportContents> {
  const iterator = lines[Symbol.asyncIterator]();
  let lineNo = 0;
  const next = async (): Promise<Record<string, unknown> | undefined> => {
    for (;;) {
      const { value, done } = await iterator.next();
      if (done) return undefined;
      lineNo++;
      if (!value.trim()) continue;
      try {
        return JSON.parse(value) as Record<string, unknown>;
      } catch {
        throw new ExportFormatError(`Line ${lineNo} is not JSON.`);
      }
    }
  };

  const header = await next();
  if (header?.type !== 'header' || header.format !== EXPORT_FORMAT_NAME) {
    throw new ExportFormatError(`Line 1 is not a ${EXPORT_FORMAT_NAME} header; is this an NDJSON audit export?`);
  }
  const checkpoints: StoredCheckpoint[] = [];
  let line = await next();
  while (line?.type === 'checkpoint') {
    const { type: _type, ...checkpoint } = line;
    checkpoints.push(checkpoint as unknown as StoredCheckpoint);
    line = await next();
  }
  const first = line;
  async function* events(): AsyncGenerator<AuditEvent> {
    for (let l = first; l; l = await next()) {
      if (l.type !== 'event') throw new ExportFormatError(`Line ${lineNo}: expected an event, found "${String(l.type)}".`);
      const { type: _type, ...event } = l;
      yield event as unknown as AuditEvent;
    }
  }
  return { header: header as unknown as ExportHeader, checkpoints, events: events() };
}
