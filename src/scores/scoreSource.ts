import type { SourceFailureReason, SourceUnavailableError } from '../errors.js';
import type { SubjectSourceAsk } from '../policy/sourceAsk.js';
import type { IdentityRecord, ScoreSummaryRecord, SubjectRecord } from '../store/scoreSummaries.js';

export type { SubjectSourceAsk };

/**
 * A summary as a score source handed it over: only the fields that were
 * released and asked for are present, whatever the source holds.
 */
export interface SourcedSummary extends Partial<Omit<ScoreSummaryRecord, 'subjectId'>> {
  /** `atLeast(threshold)` answers by threshold, for subjects whose value itself was not released. */
  atLeast?: ReadonlyMap<number, boolean>;
}

export interface SourcedSubject {
  /** Present when `identity.verified` was released and asked; null when the source knows no check. */
  identity?: IdentityRecord | null;
  /** Null when the source holds no summary for the subject (or does not know it). */
  score?: SourcedSummary | null;
}

/** What resolvers read: released data by subject id, or the failure that left every released field null. */
export type SourcedData =
  | { ok: true; subjects: ReadonlyMap<string, SourcedSubject> }
  | { ok: false; error: SourceUnavailableError };

/**
 * Where released score data comes from. Called after the release decision
 * and its audit commit, with exactly what was released: subjects that
 * consented, fields that were released and selected.
 */
export interface ScoreSource {
  readonly kind: 'local' | 'upstream';
  /**
   * Whether the access snapshot should read the consenting subjects' records
   * with the decision facts (the local store: one round trip saved). An
   * upstream source never has them in the database.
   */
  readonly readsWithSnapshot: boolean;
  fetchReleased(asks: readonly SubjectSourceAsk[], snapshotRecords: ReadonlyMap<string, SubjectRecord>): Promise<SourcedData>;
  /** Readiness: resolves when the source answers now, rejects otherwise. Null when there is nothing to check. */
  readonly probe: (() => Promise<void>) | null;
  /** Requests sent to the source since start (0 for the local store, which is read with the snapshot). */
  readonly requestsSent: number;
  close(): Promise<void>;
}

export type { SourceFailureReason };
