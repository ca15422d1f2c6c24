import type { RootFieldDecisions } from '../policy/decideRequest.js';
import type { ReleaseDecision } from '../policy/releaseDecision.js';
import type { SourceUnavailableError } from '../errors.js';
import type { SourcedSummary } from '../scores/scoreSource.js';

/** All release decisions of a request, by root field response key, made before execution. */
export type AccessDecisions = ReadonlyMap<string, RootFieldDecisions>;

/** What a Subject object carries down to its field resolvers. */
export interface DecidedSubject {
  id: string;
  decision: ReleaseDecision;
}

/**
 * A ScoreSummary object: the decision, and the released part of the summary,
 * or null when nothing under `score.` was released (then every field is
 * denied by its gate before any resolver runs), or the source's failure,
 * which every released field reports.
 */
export interface DecidedSummary extends DecidedSubject {
  summary: SourcedSummary | null;
  sourceFailure?: SourceUnavailableError;
}
