import { describe, expect, it } from 'vitest';
import type { ConsentFacts } from '../../../src/policy/facts.js';
import { AccessFactsCache } from '../../../src/store/accessFactsCache.js';
import type { AccessSnapshot } from '../../../src/store/accessSnapshot.js';

function snapshot(partnerId: string, subjectIds: string[], basis: bigint | null = 100n): AccessSnapshot {
  const consent = (subjectId: string): ConsentFacts => ({
    id: `c-${partnerId}-${subjectId}`,
    subjectId,
    partnerId,
    purpose: 'deposit_waiver',
    categories: ['score.band'],
    expiresAt: new Date('2027-01-01T00:00:00Z'),
    revokedAt: null,
  });
  return {
    partner: { id: partnerId, status: 'active', approvedScopes: ['score.band'], approvedPurposes: ['deposit_waiver'] },
    consentsBySubject: new Map(subjectIds.map((id) => [id, [consent(id)]])),
    consentingSubjects: new Map(),
    recordStamps: new Map(),
    subjectKeys: new Map(subjectIds.map((id) => [id, { key: `key-${id}`, stamp: '7' }])),
    cached: false,
    basis,
  };
}

describe('AccessFactsCache', () => {
  it('answers only when it holds every asked subject, and marks its answer as cached', () => {
    const cache = new AccessFactsCache(10);
    cache.store(['s1', 's2'], snapshot('p1', ['s1', 's2']));
    const hit = cache.lookup('p1', ['s2', 's1']);
    expect(hit?.cached).toBe(true);
    expect([...hit!.consentsBySubject.keys()]).toEqual(['s2', 's1']);
    expect(hit!.subjectKeys.get('s1')).toEqual({ key: 'key-s1', stamp: '7' });
    expect(cache.lookup('p1', ['s1', 's3'])).toBeUndefined();
    expect(cache.lookup('p2', ['s1'])).toBeUndefined();
    // A request naming no subject is always read afresh.
    expect(cache.lookup('p1', [])).toBeUndefined();
    expect(cache.counts).toEqual({ hits: 1, misses: 3 });
  });

  it('keeps no partner that does not exist', () => {
    const cache = new AccessFactsCache(10);
    cache.store(['s1'], { ...snapshot('p1', ['s1']), partner: null });
    expect(cache.lookup('p1', ['s1'])).toBeUndefined();
  });

  it('stays within its bound of subjects, dropping the least recently used partners first', () => {
    const cache = new AccessFactsCache(4);
    cache.store(['a', 'b'], snapshot('p1', ['a', 'b']));
    cache.store(['a', 'b'], snapshot('p2', ['a', 'b']));
    expect(cache.lookup('p1', ['a'])).toBeDefined(); // p1 is now the most recently used
    cache.store(['c'], snapshot('p3', ['c']));
    expect(cache.lookup('p2', ['a'])).toBeUndefined();
    expect(cache.lookup('p1', ['a', 'b'])).toBeDefined();
    expect(cache.lookup('p3', ['c'])).toBeDefined();
  });

  it('starts a partner afresh when it alone would exceed the bound, and never keeps a read larger than the bound', () => {
    const cache = new AccessFactsCache(3);
    cache.store(['a', 'b'], snapshot('p1', ['a', 'b']));
    cache.store(['c', 'd'], snapshot('p1', ['c', 'd']));
    expect(cache.lookup('p1', ['a'])).toBeUndefined();
    expect(cache.lookup('p1', ['c'])).toBeUndefined();
    cache.store(['a', 'b', 'c', 'd'], snapshot('p2', ['a', 'b', 'c', 'd']));
    expect(cache.lookup('p2', ['a'])).toBeUndefined();
    cache.store(['e'], snapshot('p1', ['e']));
    expect(cache.lookup('p1', ['e'])).toBeDefined();
  });

  it('gives a lookup the oldest basis of the facts it uses, and none when any of them has none', () => {
    const cache = new AccessFactsCache(10);
    cache.store(['a'], snapshot('p1', ['a'], 120n));
    cache.store(['b'], snapshot('p1', ['b'], 110n));
    cache.store(['c'], snapshot('p1', ['c'], null));
    expect(cache.lookup('p1', ['a', 'b'])!.basis).toBe(110n);
    expect(cache.lookup('p1', ['a'])!.basis).toBe(120n);
    expect(cache.lookup('p1', ['a', 'c'])!.basis).toBeNull();
  });

  it('moves forward the basis of exactly the facts an append confirmed, never back', () => {
    const cache = new AccessFactsCache(10);
    cache.store(['a', 'b'], snapshot('p1', ['a', 'b'], 100n));
    const used = cache.lookup('p1', ['a'])!;
    used.confirm!(150n);
    expect(cache.lookup('p1', ['a'])!.basis).toBe(150n);
    expect(cache.lookup('p1', ['b'])!.basis).toBe(100n);
    used.confirm!(120n);
    expect(cache.lookup('p1', ['a'])!.basis).toBe(150n);
    // Facts read again meanwhile are not the ones confirmed: the later read keeps its own basis.
    const stale = cache.lookup('p1', ['b'])!;
    cache.store(['b'], snapshot('p1', ['b'], 105n));
    stale.confirm!(200n);
    expect(cache.lookup('p1', ['b'])!.basis).toBe(105n);
  });

  it('lets a fresh read confirm what it stored', () => {
    const cache = new AccessFactsCache(10);
    const read = snapshot('p1', ['a'], 100n);
    cache.store(['a'], read);
    read.confirm!(130n);
    expect(cache.lookup('p1', ['a'])!.basis).toBe(130n);
  });
});
