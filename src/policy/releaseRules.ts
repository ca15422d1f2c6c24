import type { ConsentFacts, DecisionContext } from './facts.js';
import type { DenialCode } from './reasons.js';

/** One asked category, as each rule sees it. */
export interface RuleInput {
  subjectId: string;
  purpose: string;
  category: string;
}

export type RuleOutcome = { pass: true; consentId?: string } | { pass: false; code: DenialCode };

/** A release rule: one condition of contract section 3, with the code it denies with. */
export interface ReleaseRule {
  name: string;
  check(input: RuleInput, ctx: DecisionContext): RuleOutcome;
}

const pass: RuleOutcome = { pass: true };

export const partnerIsActive: ReleaseRule = {
  name: 'partnerIsActive',
  check: (_input, ctx) => (ctx.partner.status === 'active' ? pass : { pass: false, code: 'PARTNER_SUSPENDED' }),
};

export const purposeIsApproved: ReleaseRule = {
  name: 'purposeIsApproved',
  check: (input, ctx) =>
    ctx.partner.approvedPurposes.includes(input.purpose) ? pass : { pass: false, code: 'PURPOSE_NOT_ALLOWED' },
};

export const categoryInTokenScope: ReleaseRule = {
  name: 'categoryInTokenScope',
  check: (input, ctx) => (ctx.tokenScopes.has(input.category) ? pass : { pass: false, code: 'INSUFFICIENT_SCOPE' }),
};

/** Scopes can be withdrawn from a partner after its token was issued; the token alone is not enough. */
export const categoryApprovedForPartner: ReleaseRule = {
  name: 'categoryApprovedForPartner',
  check: (input, ctx) =>
    ctx.partner.approvedScopes.includes(input.category) ? pass : { pass: false, code: 'INSUFFICIENT_SCOPE' },
};

export const consentCoversCategory: ReleaseRule = {
  name: 'consentCoversCategory',
  check: (input, ctx) => {
    const consent = findCoveringConsent(ctx.consentsBySubject.get(input.subjectId) ?? [], input, ctx);
    return consent ? { pass: true, consentId: consent.id } : { pass: false, code: 'CONSENT_REQUIRED' };
  },
};

/** The rules in the order their codes are reported: the first that fails decides. */
export const RELEASE_RULES: readonly ReleaseRule[] = [
  partnerIsActive,
  purposeIsApproved,
  categoryInTokenScope,
  categoryApprovedForPartner,
  consentCoversCategory,
];

export function isConsentActive(consent: ConsentFacts, now: Date): boolean {
  return consent.revokedAt === null && consent.expiresAt.getTime() > now.getTime();
}

function findCoveringConsent(consents: readonly ConsentFacts[], input: RuleInput, ctx: DecisionContext) {
  return consents.find(
    (c) =>
      c.partnerId === ctx.partner.id &&
      c.purpose === input.purpose &&
      isConsentActive(c, ctx.now) &&
      c.categories.includes(input.category),
  );
}
