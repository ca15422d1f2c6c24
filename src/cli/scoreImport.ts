import type { Database } from '../store/database.js';
import { parseScoreImportLine } from '../store/scoreImportLine.js';
import { upsertScoreSummaries, type ScoreImportRecord } from '../store/scoreSummaries.js';

/** Lines per upsert: one round trip and one commit per thousand subjects keeps either store busy, not waiting. */
export const IMPORT_BATCH_SIZE = 1000;

export interface ImportHandlers {
  onRejected: (lineNumber: number, reason: string) => void;
  onProgress?: (progress: ImportProgress) => void;
  batchSize?: number;
}

export interface ImportProgress {
  /** Non-blank lines read so far. */
  lines: number;
  imported: number;
  rejected: number;
  seconds: number;
}

export interface ImportSummary extends ImportProgress {
  linesPerSecond: number;
}

/**
 * Imports NDJSON score lines as they arrive: at most one batch is held in
 * memory, so the file's size does not matter. Bad lines are reported and
 * skipped; good ones are kept. Blank lines are ignored but still counted for
 * line numbers, so the numbers match what an editor shows.
 */
export async function importScoreLines(db: Database, lines: AsyncIterable<string>, handlers: ImportHandlers): Promise<ImportSummary> {
  const batchSize = handlers.batchSize ?? IMPORT_BATCH_SIZE;
  const started = performance.now();
  const progress = { lines: 0, imported: 0, rejected: 0 };
  const elapsed = () => (performance.now() - started) / 1000;
  // Keyed by subject: a subject twice in one batch would make the upsert touch a row twice; the later line wins, as it would across batches.
  let batch = new Map<string, ScoreImportRecord>();
  let batchLines = 0;

  // One batch is written while the next is parsed; writes stay in file order, so a later line for a subject
  // still wins. PostgreSQL works in its own process meanwhile (10-20% faster here); PGlite shares our thread.
  let writing: Promise<void> = Promise.resolve();
  const flush = async () => {
    await writing;
    if (!batch.size) return;
    const records = [...batch.values()];
    const lines = batchLines;
    batch = new Map();
    batchLines = 0;
    writing = db.transaction((tx) => upsertScoreSummaries(tx, records)).then(() => {
      progress.imported += lines;
      handlers.onProgress?.({ ...progress, seconds: elapsed() });
    });
    // Awaited at the next flush; until then a failure must not count as unhandled.
    writing.catch(() => undefined);
  };

  let lineNumber = 0;
  for await (const text of lines) {
    lineNumber += 1;
    if (!text.trim()) continue;
    progress.lines += 1;
    const result = parseScoreImportLine(text);
    if (!result.ok) {
      progress.rejected += 1;
      handlers.onRejected(lineNumber, result.reason);
      continue;
    }
    batch.delete(result.record.subjectId);
    batch.set(result.record.subjectId, result.record);
    batchLines += 1;
    if (batchLines >= batchSize) await flush();
  }
  await flush();
  await writing;
  const seconds = elapsed();
  return { ...progress, seconds, linesPerSecond: seconds > 0 ? Math.round(progress.lines / seconds) : progress.lines };
}
