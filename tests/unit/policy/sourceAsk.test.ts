import { describe, expect, it } from 'vitest';
import { decideRequest } from '../../../src/policy/decideRequest.js';
import type { ConsentFacts, DecisionContext } from '../../../src/policy/facts.js';
import { planSourceAsks, type RootFieldSelection, type SelectedSourceField, type SourceField } from '../../../src/policy/sourceAsk.js';

const NOW = new Date('2026-06-01T12:00:00Z');
const ALL = ['score.threshold', 'score.band', 'score.value', 'score.history', 'identity.verified'];

const consent = (subjectId: string, categories: string[], purpose = 'credit_underwriting'): ConsentFacts => ({
  id: `c-${subjectId}-${purpose}`,
  subjectId,
  partnerId: 'lender',
  purpose,
  categories,
  expiresAt: new Date(NOW.getTime() + 86_400_000),
  revokedAt: null,
});

const ctx = (consents: ConsentFacts[], status: 'active' | 'suspended' = 'active'): DecisionContext => ({
  partner: { id: 'lender', status, approvedScopes: ALL, approvedPurposes: ['credit_underwriting'] },
  tokenScopes: new Set(ALL),
  consentsBySubject: new Map(consents.map((c) => [c.subjectId, [c]])),
  now: NOW,
});

/** The SDL's declarations for the source fields. */
const FIELD: Record<SourceField, SelectedSourceField> = {
  identity: { field: 'identity', category: 'identity.verified' },
  atLeast: { field: 'atLeast', category: 'score.threshold' },
  band: { field: 'band', category: 'score.band' },
  value: { field: 'value', category: 'score.value' },
  dimensions: { field: 'dimensions', category: 'score.dimensions' },
  factors: { field: 'factors', category: 'score.factors' },
  history: { field: 'history', category: 'score.history' },
  asOf: { field: 'asOf', releasedWithAny: 'score.' },
  model: { field: 'model', releasedWithAny: 'score.' },
};

const selection = (fields: SourceField[], thresholds: number[] = [], historyMonths = 0): RootFieldSelection => ({
  fields: fields.map((f) => FIELD[f]),
  thresholds,
  historyMonths,
});

/** Plans one root field `r` over the given subjects, for credit_underwriting unless said otherwise. */
function plan(subjects: string[], consents: ConsentFacts[], sel: RootFieldSelection, options: { purpose?: string; suspended?: boolean } = {}) {
  const categories = new Set(sel.fields.map((f) => f.category).filter((c): c is string => !!c));
  const decision = decideRequest(
    [{ responseKey: 'r', purpose: options.purpose ?? 'credit_underwriting', subjectIds: subjects, categories }],
    ctx(consents, options.suspended ? 'suspended' : 'active'),
  );
  return planSourceAsks(decision, new Map([['r', sel]]));
}

describe('planSourceAsks', () => {
  it.each([
    [
      'asks only released and selected fields, and asOf/model only with a released score category',
      ['s1'],
      [consent('s1', ['score.band'])],
      selection(['band', 'value', 'asOf', 'identity']),
      [{ subjectId: 's1', fields: ['asOf', 'band'], thresholds: [], historyMonths: 0 }],
    ],
    [
      'leaves out subjects with nothing released (no consent, unknown)',
      ['s1', 's2', 'ghost'],
      [consent('s1', ['identity.verified'])],
      selection(['band', 'identity']),
      [{ subjectId: 's1', fields: ['identity'], thresholds: [], historyMonths: 0 }],
    ],
    [
      'asks the threshold as a predicate when the value is not released',
      ['s1'],
      [consent('s1', ['score.threshold'])],
      selection(['atLeast', 'value'], [700, 650]),
      [{ subjectId: 's1', fields: ['atLeast'], thresholds: [650, 700], historyMonths: 0 }],
    ],
    [
      'compares at the gateway when the value is released and selected',
      ['s1'],
      [consent('s1', ['score.threshold', 'score.value'])],
      selection(['atLeast', 'value'], [650]),
      [{ subjectId: 's1', fields: ['value'], thresholds: [], historyMonths: 0 }],
    ],
    [
      'asks the predicate when the value is released but not selected',
      ['s1'],
      [consent('s1', ['score.threshold', 'score.value'])],
      selection(['atLeast'], [650]),
      [{ subjectId: 's1', fields: ['atLeast'], thresholds: [650], historyMonths: 0 }],
    ],
    [
      'carries the history window only with history',
      ['s1'],
      [consent('s1', ['score.history'])],
      selection(['history'], [], 6),
      [{ subjectId: 's1', fields: ['history'], thresholds: [], historyMonths: 6 }],
    ],
    ['asks nothing for an unapproved purpose', ['s1'], [consent('s1', ['score.band'], 'tenant_screening')], selection(['band']), []],
  ])('%s', (_name, subjects, consents, sel, expected) => {
    expect(plan(subjects, consents, sel, _name.includes('unapproved') ? { purpose: 'tenant_screening' } : {})).toEqual(expected);
  });

  it('asks nothing for a suspended partner', () => {
    expect(plan(['s1'], [consent('s1', ['score.band'])], selection(['band']), { suspended: true })).toEqual([]);
  });

  it('merges root fields asking about one subject, each contributing only what it selected', () => {
    const consents = [consent('s1', ['score.threshold', 'score.band'])];
    const decision = decideRequest(
      [
        { responseKey: 'a', purpose: 'credit_underwriting', subjectIds: ['s1'], categories: new Set(['score.threshold']) },
        { responseKey: 'b', purpose: 'credit_underwriting', subjectIds: ['s1'], categories: new Set(['score.band']) },
      ],
      ctx(consents),
    );
    const asks = planSourceAsks(decision, new Map([['a', selection(['atLeast'], [600])], ['b', selection(['band'])]]));
    expect(asks).toEqual([{ subjectId: 's1', fields: ['atLeast', 'band'], thresholds: [600], historyMonths: 0 }]);
  });
});
