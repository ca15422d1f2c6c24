/**
 * Why a category was not released, in the order the rules check them. The
 * same codes are the GraphQL `extensions.code` and what the audit log records.
 */
export const DENIAL_CODES = ['PARTNER_SUSPENDED', 'PURPOSE_NOT_ALLOWED', 'INSUFFICIENT_SCOPE', 'CONSENT_REQUIRED'] as const;
export type DenialCode = (typeof DENIAL_CODES)[number];

export interface Denial {
  category: string;
  code: DenialCode;
}
