import type { ReleaseDecision } from '../policy/releaseDecision.js';
import type { DenialCode } from '../policy/reasons.js';
import type { ScoreSummaryRecord } from '../store/scoreSummaries.js';

/** Decisions for one root field (`subject`/`subjects`, by response key) of a request. */
export interface RootFieldDecisions {
  purpose: string;
  /** Set when the whole root field is refused (purpose not approved). */
  refusedWith?: DenialCode;
  bySubject: ReadonlyMap<string, ReleaseDecision>;
}

/** All release decisions of a request, made before execution. */
export type AccessDecisions = ReadonlyMap<string, RootFieldDecisions>;

/** What a Subject object carries down to its field resolvers. */
export interface DecidedSubject {
  id: string;
  decision: ReleaseDecision;
}

/**
 * A ScoreSummary object: the decision, and the summary itself, read once for
 * all its fields, or null when nothing under `score.` was released (then every
 * field is denied by its gate before any resolver runs).
 */
export interface DecidedSummary extends DecidedSubject {
  summary: ScoreSummaryRecord | null;
}
