import { DEMO_SUBJECT } from './demoScores.js';

/** One demo partner: a real use case, the least it needs, and a first query that shows the release rule at work. */
export interface DemoPartner {
  /** Folder name under the demo credentials directory. */
  slug: string;
  clientId: string;
  name: string;
  industry: string;
  contact: string;
  scopes: string[];
  purposes: string[];
  redirectUris: string[];
  example: {
    purpose: string;
    query: string;
    variables: Record<string, unknown>;
    /** What the response shows and why, for the folder's README. */
    expect: string[];
  };
}

const DEMO_REDIRECT = 'http://localhost:4000/demo/callback';

export const DEMO_PARTNERS: DemoPartner[] = [
  {
    slug: 'swift-wheels-car-rental',
    clientId: 'p_demo_swift_wheels',
    name: 'Swift Wheels Car Rental',
    industry: 'car_rental',
    contact: 'partnerships@swiftwheels.example',
    scopes: ['score.threshold'],
    purposes: ['deposit_waiver'],
    redirectUris: [DEMO_REDIRECT, 'https://swiftwheels.example/consent/callback'],
    example: {
      purpose: 'deposit_waiver',
      query: `query DepositWaiver($id: ID!, $purpose: String!) {
  subject(id: $id, purpose: $purpose) {
    id
    score {
      waiveDeposit: atLeast(threshold: 650)
      band
      asOf
    }
  }
}`,
      variables: { id: DEMO_SUBJECT, purpose: 'deposit_waiver' },
      expect: [
        'waiveDeposit: true or false; one bit, never the score (consented: score.threshold).',
        'band: null with INSUFFICIENT_SCOPE; a car-rental firm is approved for the threshold only.',
      ],
    },
  },
  {
    slug: 'harbourview-hotels',
    clientId: 'p_demo_harbourview',
    name: 'Harbourview Hotels',
    industry: 'hospitality',
    contact: 'guest-credit@harbourview.example',
    scopes: ['score.band'],
    purposes: ['post_pay'],
    redirectUris: [DEMO_REDIRECT, 'https://harbourview.example/consent/return'],
    example: {
      purpose: 'post_pay',
      query: `query PostPay($ids: [ID!]!, $purpose: String!) {
  subjects(ids: $ids, purpose: $purpose) {
    id
    score {
      band
      asOf
    }
  }
}`,
      variables: { ids: [DEMO_SUBJECT, 'demo-subject-2'], purpose: 'post_pay' },
      expect: [
        'demo-subject-2: band released (consented: score.band for post_pay).',
        `${DEMO_SUBJECT}: score fields null with CONSENT_REQUIRED; this guest never consented to the hotel.`,
      ],
    },
  },
  {
    slug: 'northbridge-lending',
    clientId: 'p_demo_northbridge',
    name: 'Northbridge Lending',
    industry: 'consumer_lending',
    contact: 'risk-ops@northbridge.example',
    scopes: ['score.threshold', 'score.band', 'score.value', 'score.dimensions', 'score.factors', 'score.history'],
    purposes: ['credit_underwriting'],
    redirectUris: [DEMO_REDIRECT, 'https://apply.northbridge.example/consent/callback'],
    example: {
      purpose: 'credit_underwriting',
      query: `query Underwriting($id: ID!, $purpose: String!) {
  subject(id: $id, purpose: $purpose) {
    id
    score {
      value
      band
      factors { code description }
      dimensions { creditHistory behaviourPreferences fulfilmentCapacity identityTraits socialConnections }
      history(months: 6) { month value }
      asOf
      model
    }
  }
}`,
      variables: { id: DEMO_SUBJECT, purpose: 'credit_underwriting' },
      expect: [
        'value, band, factors, asOf, model: released (consented: score.value, score.band, score.factors).',
        'dimensions, history: null with CONSENT_REQUIRED; approved scopes, but the subject did not consent to them.',
      ],
    },
  },
  {
    slug: 'kindred-match',
    clientId: 'p_demo_kindred',
    name: 'Kindred Match',
    industry: 'online_dating',
    contact: 'trust-safety@kindred.example',
    scopes: ['identity.verified'],
    purposes: ['identity_verification'],
    redirectUris: [DEMO_REDIRECT, 'https://kindred.example/verify/callback'],
    example: {
      purpose: 'identity_verification',
      query: `query VerifiedMember($id: ID!, $purpose: String!) {
  subject(id: $id, purpose: $purpose) {
    id
    identity { verified level verifiedAt }
    score { band }
  }
}`,
      variables: { id: DEMO_SUBJECT, purpose: 'identity_verification' },
      expect: [
        'identity: released (consented: identity.verified); no personal data, just verified, level and when.',
        'score.band: null with INSUFFICIENT_SCOPE; a dating site never sees scores.',
      ],
    },
  },
];

export interface DemoConsent {
  subjectId: string;
  clientId: string;
  purpose: string;
  categories: string[];
  days: number;
}

/** The consents behind the example queries' answers: each partner's first query shows released and denied fields. */
export const WALKTHROUGH_CONSENTS: DemoConsent[] = [
  { subjectId: DEMO_SUBJECT, clientId: 'p_demo_swift_wheels', purpose: 'deposit_waiver', categories: ['score.threshold'], days: 90 },
  {
    subjectId: DEMO_SUBJECT,
    clientId: 'p_demo_northbridge',
    purpose: 'credit_underwriting',
    categories: ['score.band', 'score.value', 'score.factors'],
    days: 30,
  },
  { subjectId: DEMO_SUBJECT, clientId: 'p_demo_kindred', purpose: 'identity_verification', categories: ['identity.verified'], days: 365 },
  { subjectId: 'demo-subject-2', clientId: 'p_demo_harbourview', purpose: 'post_pay', categories: ['score.band'], days: 180 },
];

/**
 * A sprinkling of consents among the other demo subjects, so compliance
 * pages and per-partner reports have something to show. Deterministic.
 */
export function backgroundConsents(subjectCount: number, random: () => number): DemoConsent[] {
  const consents: DemoConsent[] = [];
  for (let n = 3; n <= subjectCount; n++) {
    for (const partner of DEMO_PARTNERS) {
      if (random() >= 0.04) continue;
      const categories = partner.scopes.filter((_, i) => i === 0 || random() < 0.5);
      consents.push({
        subjectId: `demo-subject-${n}`,
        clientId: partner.clientId,
        purpose: partner.purposes[0]!,
        categories,
        days: 30 + Math.floor(random() * 336),
      });
    }
  }
  return consents;
}
