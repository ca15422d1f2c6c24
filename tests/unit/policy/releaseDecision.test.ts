import { describe, expect, it } from 'vitest';
import type { ConsentFacts, DecisionContext, PartnerFacts } from '../../../src/policy/facts.js';
import { decideRelease, releasedWithAny } from '../../../src/policy/releaseDecision.js';

const NOW = new Date('2026-06-01T12:00:00Z');
const DAY = 86_400_000;

const partner: PartnerFacts = {
  id: 'rental',
  status: 'active',
  approvedScopes: ['score.threshold', 'score.band', 'score.value'],
  approvedPurposes: ['deposit_waiver', 'post_pay'],
};

const consent = (over: Partial<ConsentFacts> = {}): ConsentFacts => ({
  id: 'c1',
  subjectId: 's1',
  partnerId: 'rental',
  purpose: 'deposit_waiver',
  categories: ['score.threshold', 'score.band'],
  expiresAt: new Date(NOW.getTime() + 30 * DAY),
  revokedAt: null,
  ...over,
});

const context = (over: Partial<DecisionContext> & { consents?: ConsentFacts[] } = {}): DecisionContext => ({
  partner: over.partner ?? partner,
  tokenScopes: over.tokenScopes ?? new Set(['score.threshold', 'score.band', 'score.value']),
  consentsBySubject: over.consentsBySubject ?? new Map([['s1', over.consents ?? [consent()]]]),
  now: over.now ?? NOW,
});

const ask = (category: string, purpose = 'deposit_waiver', subjectId = 's1') => ({
  subjectId,
  purpose,
  categories: new Set([category]),
});

describe('decideRelease: one rule at a time', () => {
  const cases: { name: string; category: string; purpose?: string; ctx: DecisionContext; expected: unknown }[] = [
    {
      name: 'consented, in scope, approved purpose: released with the consent id',
      category: 'score.threshold',
      ctx: context(),
      expected: { category: 'score.threshold', released: true, consentId: 'c1' },
    },
    {
      name: 'suspended partner: PARTNER_SUSPENDED before anything else',
      category: 'score.threshold',
      ctx: context({ partner: { ...partner, status: 'suspended' } }),
      expected: { category: 'score.threshold', released: false, code: 'PARTNER_SUSPENDED' },
    },
    {
      name: 'purpose the partner is not approved for: PURPOSE_NOT_ALLOWED',
      category: 'score.threshold',
      purpose: 'credit_underwriting',
      ctx: context({ consents: [consent({ purpose: 'credit_underwriting' })] }),
      expected: { category: 'score.threshold', released: false, code: 'PURPOSE_NOT_ALLOWED' },
    },
    {
      name: 'consented and approved, but not requested in the token: INSUFFICIENT_SCOPE',
      category: 'score.band',
      ctx: context({ tokenScopes: new Set(['score.threshold']) }),
      expected: { category: 'score.band', released: false, code: 'INSUFFICIENT_SCOPE' },
    },
    {
      name: 'in the token and consented, but no longer approved for the partner: INSUFFICIENT_SCOPE',
      category: 'score.band',
      ctx: context({ partner: { ...partner, approvedScopes: ['score.threshold'] } }),
      expected: { category: 'score.band', released: false, code: 'INSUFFICIENT_SCOPE' },
    },
    {
      name: 'approved and in the token, but outside the consent: CONSENT_REQUIRED',
      category: 'score.value',
      ctx: context(),
      expected: { category: 'score.value', released: false, code: 'CONSENT_REQUIRED' },
    },
    {
      name: 'consent for another purpose: CONSENT_REQUIRED',
      category: 'score.threshold',
      purpose: 'post_pay',
      ctx: context(),
      expected: { category: 'score.threshold', released: false, code: 'CONSENT_REQUIRED' },
    },
    {
      name: 'consent given to another partner: CONSENT_REQUIRED',
      category: 'score.threshold',
      ctx: context({ consents: [consent({ partnerId: 'hotel' })] }),
      expected: { category: 'score.threshold', released: false, code: 'CONSENT_REQUIRED' },
    },
    {
      name: 'revoked consent: CONSENT_REQUIRED',
      category: 'score.threshold',
      ctx: context({ consents: [consent({ revokedAt: new Date(NOW.getTime() - 1000) })] }),
      expected: { category: 'score.threshold', released: false, code: 'CONSENT_REQUIRED' },
    },
    {
      name: 'consent expired exactly now: CONSENT_REQUIRED',
      category: 'score.threshold',
      ctx: context({ consents: [consent({ expiresAt: NOW })] }),
      expected: { category: 'score.threshold', released: false, code: 'CONSENT_REQUIRED' },
    },
    {
      name: 'consent expiring one millisecond from now: released',
      category: 'score.threshold',
      ctx: context({ consents: [consent({ expiresAt: new Date(NOW.getTime() + 1) })] }),
      expected: { category: 'score.threshold', released: true, consentId: 'c1' },
    },
    {
      name: 'consent of another subject: CONSENT_REQUIRED',
      category: 'score.threshold',
      ctx: context({ consentsBySubject: new Map([['s2', [consent({ subjectId: 's2' })]]]) }),
      expected: { category: 'score.threshold', released: false, code: 'CONSENT_REQUIRED' },
    },
    {
      name: 'category outside the token scope even though consented: INSUFFICIENT_SCOPE, not CONSENT_REQUIRED',
      category: 'score.threshold',
      ctx: context({ tokenScopes: new Set(['score.value']) }),
      expected: { category: 'score.threshold', released: false, code: 'INSUFFICIENT_SCOPE' },
    },
    {
      name: 'a revoked consent beside an active one: the active one is used',
      category: 'score.threshold',
      ctx: context({ consents: [consent({ id: 'old', revokedAt: new Date(NOW.getTime() - DAY) }), consent({ id: 'new' })] }),
      expected: { category: 'score.threshold', released: true, consentId: 'new' },
    },
  ];

  it.each(cases)('$name', ({ category, purpose, ctx, expected }) => {
    const decision = decideRelease(ask(category, purpose), ctx);
    expect(decision.byCategory.get(category)).toEqual(expected);
  });
});

describe('decideRelease: the whole decision', () => {
  it('splits categories into released and denied with reasons, sorted, and names the consents used', () => {
    const decision = decideRelease(
      { subjectId: 's1', purpose: 'deposit_waiver', categories: new Set(['score.value', 'score.band', 'score.threshold', 'score.history']) },
      context(),
    );
    expect({ ...decision, byCategory: undefined }).toEqual({
      subjectId: 's1',
      purpose: 'deposit_waiver',
      released: ['score.band', 'score.threshold'],
      denied: [
        { category: 'score.history', code: 'INSUFFICIENT_SCOPE' },
        { category: 'score.value', code: 'CONSENT_REQUIRED' },
      ],
      consentIds: ['c1'],
      expiredConsentIds: [],
      byCategory: undefined,
    });
  });

  it('reports expired, unrevoked consents of this partner and purpose so they can be recorded', () => {
    const expired = consent({ id: 'gone', expiresAt: new Date(NOW.getTime() - DAY) });
    const otherPurpose = consent({ id: 'other', purpose: 'post_pay', expiresAt: new Date(NOW.getTime() - DAY) });
    const revoked = consent({ id: 'revoked', expiresAt: new Date(NOW.getTime() - DAY), revokedAt: new Date(NOW.getTime() - 2 * DAY) });
    const decision = decideRelease(ask('score.threshold'), context({ consents: [expired, otherPurpose, revoked] }));
    expect(decision.expiredConsentIds).toEqual(['gone']);
    expect(decision.released).toEqual([]);
  });

  it('is deterministic: the same facts give the same decision', () => {
    const a = decideRelease(ask('score.band'), context());
    const b = decideRelease(ask('score.band'), context());
    expect(a).toEqual(b);
  });

  it('releases asOf/model with any score category, and not with identity only', () => {
    expect(releasedWithAny(decideRelease(ask('score.band'), context()), 'score.')).toBe(true);
    expect(releasedWithAny(decideRelease(ask('score.value'), context()), 'score.')).toBe(false);
  });
});
