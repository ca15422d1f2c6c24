import { describe, expect, it } from 'vitest';
import { SourceUnavailableError } from '../../../src/errors.js';
import { buildUpstreamBatch, readUpstreamAnswer } from '../../../src/scores/upstreamQuery.js';

const threshold = (subjectId: string, thresholds = [650]) => ({ subjectId, fields: ['atLeast' as const], thresholds, historyMonths: 0 });
const band = (subjectId: string) => ({ subjectId, fields: ['asOf' as const, 'band' as const], thresholds: [], historyMonths: 0 });

describe('buildUpstreamBatch', () => {
  it('groups subjects asked for the same fields under one alias, across callers, with ids as variables', () => {
    const batch = buildUpstreamBatch([[threshold('a'), band('b')], [threshold('c'), { subjectId: 'd', fields: ['identity'], thresholds: [], historyMonths: 0 }]]);
    expect(batch.query).toBe(
      'query ConsentryReleased($g0: [ID!]!, $g1: [ID!]!, $g2: [ID!]!) { ' +
        'g0: scoreSummaries(ids: $g0) { id score { t0: atLeast(threshold: 650) } } ' +
        'g1: scoreSummaries(ids: $g1) { id score { asOf band } } ' +
        'g2: scoreSummaries(ids: $g2) { id identity { verified level verifiedAt } } }',
    );
    expect(batch.variables).toEqual({ g0: ['a', 'c'], g1: ['b'], g2: ['d'] });
  });
});

describe('readUpstreamAnswer', () => {
  const batch = buildUpstreamBatch([[threshold('a'), band('b')], [threshold('c')]]);

  it('hands each caller only its own subjects, and leaves out subjects the upstream does not know', () => {
    const answer = {
      data: {
        g0: [{ id: 'a', score: { t0: true } }, null],
        g1: [{ id: 'b', score: { asOf: '2026-05-31T00:00:00Z', band: 'GOOD' } }],
      },
    };
    const [first, second] = readUpstreamAnswer(batch, answer);
    expect(first).toEqual(
      new Map<string, unknown>([
        ['a', { score: { atLeast: new Map([[650, true]]) } }],
        ['b', { score: { asOf: new Date('2026-05-31T00:00:00Z'), band: 'GOOD' } }],
      ]),
    );
    expect(second).toEqual(new Map());
  });

  it.each([
    ['not an object', 'nope', 'malformed'],
    ['GraphQL errors', { data: null, errors: [{ message: 'x' }] }, 'graphql_errors'],
    ['a missing group', { data: { g0: [] } }, 'malformed'],
    ['a subject not asked for', { data: { g0: [{ id: 'z', score: { t0: true } }], g1: [] } }, 'malformed'],
    ['a subject twice', { data: { g0: [{ id: 'a', score: { t0: true } }, { id: 'a', score: { t0: true } }], g1: [] } }, 'malformed'],
    ['a bit that is not a boolean', { data: { g0: [{ id: 'a', score: { t0: 1 } }], g1: [] } }, 'malformed'],
    ['a band outside the enum', { data: { g0: [], g1: [{ id: 'b', score: { asOf: '2026-05-31T00:00:00Z', band: 'SUPER' } }] } }, 'malformed'],
    ['a date that is not ISO 8601', { data: { g0: [], g1: [{ id: 'b', score: { asOf: 'yesterday', band: 'GOOD' } }] } }, 'malformed'],
  ])('refuses an answer with %s', (_name, body, reason) => {
    let caught: unknown;
    try {
      readUpstreamAnswer(batch, body);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SourceUnavailableError);
    expect((caught as SourceUnavailableError).reason).toBe(reason);
  });
});
