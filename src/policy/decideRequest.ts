import type { DecisionContext } from './facts.js';
import type { DenialCode } from './reasons.js';
import { decideRelease, type ReleaseDecision } from './releaseDecision.js';
import { RELEASE_RULES, type ReleaseRule } from './releaseRules.js';

/** One subject-reading root field of a request: these categories of these subjects, for this purpose. */
export interface RootFieldAsk {
  /** The alias, or the field name: how resolvers find their decisions. */
  responseKey: string;
  purpose: string;
  /** Distinct subject ids. */
  subjectIds: readonly string[];
  /** Every category any selection below this field reaches. */
  categories: ReadonlySet<string>;
}

/** Decisions for one root field, by response key. */
export interface RootFieldDecisions {
  purpose: string;
  /** Set when the whole root field is refused (its purpose is not approved for the partner). */
  refusal?: DenialCode;
  bySubject: ReadonlyMap<string, ReleaseDecision>;
}

/** Everything decided about one request, before any resolver runs. */
export interface RequestDecision {
  rootFields: ReadonlyMap<string, RootFieldDecisions>;
  /**
   * One decision per (subject, purpose) of the request, over every category
   * any root field asked of that subject for that purpose. Root fields point
   * at these very objects, so what the audit log records is what resolvers release.
   */
  bySubjectPurpose: readonly ReleaseDecision[];
  /** Set when nothing of the request may be released (the partner is suspended). */
  refusal?: DenialCode;
}

/**
 * The release rule over a whole request. Asks of one subject under one
 * purpose are merged before deciding (aliases, repeated root fields), so the
 * subject's audit event lists every category the request touched. Pure.
 */
export function decideRequest(
  asks: readonly RootFieldAsk[],
  ctx: DecisionContext,
  rules: readonly ReleaseRule[] = RELEASE_RULES,
): RequestDecision {
  const categoriesOf = new Map<string, { subjectId: string; purpose: string; categories: Set<string> }>();
  for (const ask of asks) {
    for (const subjectId of ask.subjectIds) {
      const key = subjectPurposeKey(subjectId, ask.purpose);
      const group = categoriesOf.get(key) ?? { subjectId, purpose: ask.purpose, categories: new Set<string>() };
      for (const category of ask.categories) group.categories.add(category);
      categoriesOf.set(key, group);
    }
  }
  const decided = new Map<string, ReleaseDecision>();
  for (const [key, group] of categoriesOf) decided.set(key, decideRelease(group, ctx, rules));

  const rootFields = new Map<string, RootFieldDecisions>();
  for (const ask of asks) {
    const bySubject = new Map(ask.subjectIds.map((id) => [id, decided.get(subjectPurposeKey(id, ask.purpose))!]));
    const purposeApproved = ctx.partner.approvedPurposes.includes(ask.purpose);
    rootFields.set(ask.responseKey, {
      purpose: ask.purpose,
      ...(purposeApproved ? {} : { refusal: 'PURPOSE_NOT_ALLOWED' as const }),
      bySubject,
    });
  }
  return {
    rootFields,
    bySubjectPurpose: [...decided.values()],
    ...(ctx.partner.status === 'active' ? {} : { refusal: 'PARTNER_SUSPENDED' as const }),
  };
}

const subjectPurposeKey = (subjectId: string, purpose: string) => JSON.stringify([subjectId, purpose]);
