import { getIntrospectionQuery } from 'graphql';
import { describe, expect, it } from 'vitest';
import { DEFAULT_QUERY_LIMITS, documentLimitProblem } from '../../../src/gateway/queryLimits.js';

const subject = (alias = '') => `${alias}subject(id: "s1", purpose: "deposit_waiver") { score { band } }`;

describe('documentLimitProblem', () => {
  const cases: [name: string, query: string, problem: string | undefined][] = [
    ['an ordinary query', `{ ${subject()} }`, undefined],
    ['30 aliases', `{ ${Array.from({ length: 30 }, (_, i) => subject(`a${i}: `)).join(' ')} }`, undefined],
    [
      'a 1,000-subject batch with every category',
      `{ subjects(ids: ${JSON.stringify(Array.from({ length: 1000 }, (_, i) => `subject-${i}`))}, purpose: "p") { id score { atLeast(threshold: 650) band value dimensions { creditHistory behaviourPreferences fulfilmentCapacity identityTraits socialConnections } factors { code description } history(months: 12) { month value } asOf model } identity { verified level verifiedAt } } }`,
      undefined,
    ],
    ['31 aliases', `{ ${Array.from({ length: 31 }, (_, i) => subject(`a${i}: `)).join(' ')} }`, 'Aliases limit of 30 exceeded, found 31.'],
    ['__typename aliases count like any other', `{ ${Array.from({ length: 31 }, (_, i) => `t${i}: __typename`).join(' ')} }`, 'Aliases limit of 30 exceeded, found 31.'],
    [
      'aliases inside a fragment count at every spread',
      `{ subject(id: "s1", purpose: "p") { ...F ...G } } fragment F on Subject { ${Array.from({ length: 16 }, (_, i) => `x${i}: id`).join(' ')} } fragment G on Subject { ...F }`,
      'Aliases limit of 30 exceeded, found 32.',
    ],
    [
      'directives on repeated fragment spreads count every time',
      `{ subject(id: "s1", purpose: "p") { ${Array.from({ length: 3 }, () => `...F ${'@include(if: true) '.repeat(20)}`).join(' ')} } } fragment F on Subject { id }`,
      'Directives limit of 50 exceeded, found 60.',
    ],
    ['too deep', `{ subject(id: "s1", purpose: "p") { score { dimensions { a { b { c { d { e { f } } } } } } } } }`, 'Query depth limit of 8 exceeded, found 9.'],
    [
      'one field repeated in a selection set',
      `{ subject(id: "s1", purpose: "p") { ${'score { band } '.repeat(4)} } }`,
      'A field or fragment may appear at most 3 times in one selection set, found 4.',
    ],
    ['the standard introspection query (ofType chains do not fan out)', getIntrospectionQuery({ descriptions: true, specifiedByUrl: true }), undefined],
    [
      'introspection that fans out is still bounded',
      '{ __schema { types { fields { type { fields { type { fields { type { fields { name } } } } } } } } } }',
      'Query depth limit of 8 exceeded, found 10.',
    ],
    ['more tokens than the limit', `{ ${'__typename '.repeat(DEFAULT_QUERY_LIMITS.maxTokens)} }`, 'Token limit of 5000 exceeded.'],
    ['a syntax error is left to Apollo', '{ subject(', undefined],
  ];
  it.each(cases)('%s', (_name, query, problem) => {
    expect(documentLimitProblem(query)).toBe(problem);
  });

  // How fast this is refused is measured by `npm run bench` (the "under attack" scenario), not here.
  it('refuses an 880 KB document of __typename aliases on the token limit, before parsing it whole', () => {
    const query = `{ ${Array.from({ length: 60_000 }, (_, i) => `a${i}: __typename`).join(' ')} }`;
    expect(documentLimitProblem(query)).toBe('Token limit of 5000 exceeded.');
  });
});
