import { describe, expect, it } from 'vitest';
import { decideRequest } from '../../../src/policy/decideRequest.js';
import type { ConsentFacts, DecisionContext, PartnerFacts } from '../../../src/policy/facts.js';

const NOW = new Date('2026-06-01T12:00:00Z');

const partner: PartnerFacts = {
  id: 'lender',
  status: 'active',
  approvedScopes: ['score.band', 'score.value', 'score.factors'],
  approvedPurposes: ['credit_underwriting'],
};

const consent: ConsentFacts = {
  id: 'c1',
  subjectId: 's1',
  partnerId: 'lender',
  purpose: 'credit_underwriting',
  categories: ['score.band', 'score.value'],
  expiresAt: new Date(NOW.getTime() + 86_400_000),
  revokedAt: null,
};

const ctx = (over: Partial<DecisionContext> = {}): DecisionContext => ({
  partner,
  tokenScopes: new Set(['score.band', 'score.value', 'score.factors']),
  consentsBySubject: new Map([['s1', [consent]]]),
  now: NOW,
  ...over,
});

const ask = (responseKey: string, categories: string[], purpose = 'credit_underwriting', subjectIds = ['s1']) => ({
  responseKey,
  purpose,
  subjectIds,
  categories: new Set(categories),
});

/** What the audit log records for a request: one line per (subject, purpose). */
const auditView = (asks: ReturnType<typeof ask>[], context = ctx()) =>
  decideRequest(asks, context).bySubjectPurpose.map(({ subjectId, purpose, released, denied, consentIds }) => ({
    subjectId,
    purpose,
    released,
    denied,
    consentIds,
  }));

describe('decideRequest', () => {
  it('gives aliases of one subject under one purpose one decision that lists every category they asked', () => {
    expect(auditView([ask('a', ['score.band']), ask('b', ['score.value']), ask('c', ['score.factors'])])).toEqual([
      {
        subjectId: 's1',
        purpose: 'credit_underwriting',
        released: ['score.band', 'score.value'],
        denied: [{ category: 'score.factors', code: 'CONSENT_REQUIRED' }],
        consentIds: ['c1'],
      },
    ]);
  });

  it('lets every root field read the very decision the audit log records', () => {
    const decision = decideRequest([ask('a', ['score.band']), ask('b', ['score.value'])], ctx());
    const recorded = decision.bySubjectPurpose[0];
    expect(decision.rootFields.get('a')!.bySubject.get('s1')).toBe(recorded);
    expect(decision.rootFields.get('b')!.bySubject.get('s1')).toBe(recorded);
  });

  it('keeps purposes apart: one decision per (subject, purpose), and the unapproved purpose refuses its root field', () => {
    const decision = decideRequest([ask('a', ['score.band']), ask('b', ['score.band'], 'tenant_screening')], ctx());
    expect(decision.bySubjectPurpose.map((d) => [d.purpose, d.released, d.denied])).toEqual([
      ['credit_underwriting', ['score.band'], []],
      ['tenant_screening', [], [{ category: 'score.band', code: 'PURPOSE_NOT_ALLOWED' }]],
    ]);
    expect(decision.rootFields.get('a')!.refusal).toBeUndefined();
    expect(decision.rootFields.get('b')!.refusal).toBe('PURPOSE_NOT_ALLOWED');
  });

  it('reports an unapproved purpose before a missing scope', () => {
    const decision = decideRequest([ask('a', ['score.history'], 'tenant_screening')], ctx());
    expect(decision.bySubjectPurpose[0]!.denied).toEqual([{ category: 'score.history', code: 'PURPOSE_NOT_ALLOWED' }]);
  });

  it('refuses the whole request for a suspended partner, and still says why per category', () => {
    const decision = decideRequest([ask('a', ['score.band'])], ctx({ partner: { ...partner, status: 'suspended' } }));
    expect(decision.refusal).toBe('PARTNER_SUSPENDED');
    expect(decision.bySubjectPurpose[0]!.denied).toEqual([{ category: 'score.band', code: 'PARTNER_SUSPENDED' }]);
  });

  it('decides a batch subject by subject', () => {
    expect(auditView([ask('batch', ['score.band'], 'credit_underwriting', ['s1', 's2'])]).map((d) => [d.subjectId, d.released])).toEqual([
      ['s1', ['score.band']],
      ['s2', []],
    ]);
  });
});
