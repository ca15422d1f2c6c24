import type { AccessAsk, DecisionContext } from './facts.js';
import type { Denial, DenialCode } from './reasons.js';
import { RELEASE_RULES, type ReleaseRule } from './releaseRules.js';

export type CategoryDecision =
  | { category: string; released: true; consentId: string }
  | { category: string; released: false; code: DenialCode };

/** The decision for one (subject, purpose) of a request: what the audit log records. */
export interface ReleaseDecision {
  subjectId: string;
  purpose: string;
  released: string[];
  denied: Denial[];
  consentIds: string[];
  /** Consents of this subject, partner and purpose that have run out and not been revoked. */
  expiredConsentIds: string[];
  byCategory: ReadonlyMap<string, CategoryDecision>;
}

/** Decides every asked category of one ask. Pure: same inputs, same decision. */
export function decideRelease(
  ask: AccessAsk,
  ctx: DecisionContext,
  rules: readonly ReleaseRule[] = RELEASE_RULES,
): ReleaseDecision {
  const byCategory = new Map<string, CategoryDecision>();
  const released: string[] = [];
  const denied: Denial[] = [];
  const consentIds = new Set<string>();
  for (const category of [...ask.categories].sort()) {
    const decision = decideCategory({ subjectId: ask.subjectId, purpose: ask.purpose, category }, ctx, rules);
    byCategory.set(category, decision);
    if (decision.released) {
      released.push(category);
      consentIds.add(decision.consentId);
    } else {
      denied.push({ category, code: decision.code });
    }
  }
  return {
    subjectId: ask.subjectId,
    purpose: ask.purpose,
    released,
    denied,
    consentIds: [...consentIds].sort(),
    expiredConsentIds: expiredConsents(ask, ctx),
    byCategory,
  };
}

function decideCategory(
  input: { subjectId: string; purpose: string; category: string },
  ctx: DecisionContext,
  rules: readonly ReleaseRule[],
): CategoryDecision {
  let consentId: string | undefined;
  for (const rule of rules) {
    const outcome = rule.check(input, ctx);
    if (!outcome.pass) return { category: input.category, released: false, code: outcome.code };
    consentId = outcome.consentId ?? consentId;
  }
  if (!consentId) throw new Error('release rules passed without naming a consent');
  return { category: input.category, released: true, consentId };
}

function expiredConsents(ask: AccessAsk, ctx: DecisionContext): string[] {
  const now = ctx.now.getTime();
  return (ctx.consentsBySubject.get(ask.subjectId) ?? [])
    .filter(
      (c) =>
        c.partnerId === ctx.partner.id &&
        c.purpose === ask.purpose &&
        c.revokedAt === null &&
        c.expiresAt.getTime() <= now,
    )
    .map((c) => c.id)
    .sort();
}

/** `asOf` and `model` of a summary follow any released category under a prefix (contract section 2). */
export function releasedWithAny(decision: ReleaseDecision, prefix: string): boolean {
  return decision.released.some((c) => c.startsWith(prefix));
}
