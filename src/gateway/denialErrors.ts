import {
  ConsentRequiredError,
  InsufficientScopeError,
  PartnerSuspendedError,
  PurposeNotAllowedError,
  type ConsentryError,
} from '../errors.js';
import type { DenialCode } from '../policy/reasons.js';

const MESSAGES: Record<DenialCode, (category: string, purpose: string) => string> = {
  PARTNER_SUSPENDED: () => 'This partner is suspended.',
  PURPOSE_NOT_ALLOWED: (_c, purpose) => `This partner is not approved for the purpose "${purpose}".`,
  INSUFFICIENT_SCOPE: (category) => `The access token or the partner's approval does not include the scope "${category}".`,
  CONSENT_REQUIRED: (category, purpose) =>
    `No active consent of this subject covers "${category}" for this partner and the purpose "${purpose}".`,
};

/** The typed error a denied field resolves with; its code is the release decision's reason. */
export function denialError(code: DenialCode, category: string, purpose: string): ConsentryError {
  const message = MESSAGES[code](category, purpose);
  const details = { category, purpose };
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
