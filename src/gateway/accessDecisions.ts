import type { ReleaseDecision } from '../policy/releaseDecision.js';
import type { DenialCode } from '../policy/reasons.js';

/** Decisions for one root field (`subject`/`subjects`, by response key) of a request. */
export interface RootFieldDecisions {
  purpose: string;
  /** Set when the whole root field is refused (purpose not approved). */
  refusedWith?: DenialCode;
  bySubject: ReadonlyMap<string, ReleaseDecision>;
}

/** All release decisions of a request, made before execution. */
export type AccessDecisions = ReadonlyMap<string, RootFieldDecisions>;

/** What a Subject or ScoreSummary object carries down to its field resolvers. */
export interface DecidedSubject {
  id: string;
  decision: ReleaseDecision;
}
