import type { SubjectRecord } from '../store/scoreSummaries.js';
import type { ScoreSource, SourcedData, SourcedSubject, SourcedSummary, SubjectSourceAsk } from './scoreSource.js';

/**
 * The gateway's own store (imported NDJSON, the demo). The records were read
 * with the decision facts, in the same statement; here they are cut down to
 * what was released and asked, so resolvers see the same shape whatever the
 * source.
 */
export class LocalScoreSource implements ScoreSource {
  readonly kind = 'local';
  readonly readsWithSnapshot = true;
  readonly probe = null;
  readonly requestsSent = 0;

  async fetchReleased(asks: readonly SubjectSourceAsk[], records: ReadonlyMap<string, SubjectRecord>): Promise<SourcedData> {
    const subjects = new Map<string, SourcedSubject>();
    for (const ask of asks) {
      const record = records.get(ask.subjectId);
      if (record) subjects.set(ask.subjectId, minimised(record, ask));
    }
    return { ok: true, subjects };
  }

  async close(): Promise<void> {}
}

/** The released and asked part of a record, and nothing else. */
export function minimised(record: SubjectRecord, ask: SubjectSourceAsk): SourcedSubject {
  const out: SourcedSubject = {};
  const score = record.score;
  for (const field of ask.fields) {
    if (field === 'identity') {
      out.identity = record.identity;
      continue;
    }
    if (!score) {
      out.score = null;
      continue;
    }
    const summary: SourcedSummary = (out.score ??= {});
    switch (field) {
      case 'atLeast':
        summary.atLeast = new Map(ask.thresholds.map((t) => [t, score.value >= t]));
        break;
      case 'history':
        summary.history = score.history.slice(0, ask.historyMonths);
        break;
      default:
        (summary as Record<string, unknown>)[field] = score[field];
    }
  }
  return out;
}
