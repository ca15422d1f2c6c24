/**
 * The facts a release decision is made from. Storage loads them in bulk; the
 * policy never fetches anything itself.
 */
export type PartnerStatus = 'active' | 'suspended';

export interface PartnerFacts {
  id: string;
  status: PartnerStatus;
  approvedScopes: readonly string[];
  approvedPurposes: readonly string[];
}

export interface ConsentFacts {
  id: string;
  subjectId: string;
  partnerId: string;
  purpose: string;
  categories: readonly string[];
  expiresAt: Date;
  revokedAt: Date | null;
}

/** What one part of a request asks: these categories of this subject, for this purpose. */
export interface AccessAsk {
  subjectId: string;
  purpose: string;
  categories: ReadonlySet<string>;
}

export interface DecisionContext {
  partner: PartnerFacts;
  /** Categories in the presented access token's `scope`. */
  tokenScopes: ReadonlySet<string>;
  /** Consents of the asked subjects given to this partner, any purpose, any state. */
  consentsBySubject: ReadonlyMap<string, readonly ConsentFacts[]>;
  now: Date;
}
