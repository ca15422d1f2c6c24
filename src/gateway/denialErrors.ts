import {
  ConsentRequiredError,
  InsufficientScopeError,
  PartnerSuspendedError,
  PurposeNotAllowedError,
  type ConsentryError,
} from '../errors.js';
import type { DenialCode } from '../policy/reasons.js';

const MESSAGES: Record<DenialCode, (purpose: string, category: string | undefined) => string> = {
  PARTNER_SUSPENDED: () => 'This partner is suspended.',
  PURPOSE_NOT_ALLOWED: (purpose) => `This partner is not approved for the purpose "${purpose}".`,
  INSUFFICIENT_SCOPE: (_p, category) => `The access token or the partner's approval does not include the scope "${category}".`,
  CONSENT_REQUIRED: (purpose, category) =>
    `No active consent of this subject covers "${category}" for this partner and the purpose "${purpose}".`,
};

/**
 * The typed error for a decision's reason: a denied field's (with its
 * category), or a whole root field's or request's refusal (without one).
 */
export function denialError(code: DenialCode, purpose: string, category?: string): ConsentryError {
  const message = MESSAGES[code](purpose, category);
  const details = category === undefined ? { purpose } : { category, purpose };
  switch (code) {
    case 'PARTNER_SUSPENDED':
      return new PartnerSuspendedError(message, details);
    case 'PURPOSE_NOT_ALLOWED':
      return new PurposeNotAllowedError(message, details);
    case 'INSUFFICIENT_SCOPE':
      return new InsufficientScopeError(message, details);
    case 'CONSENT_REQUIRED':
      return new ConsentRequiredError(message, details);
  }
}
