import { describe, expect, it } from 'vitest';
import { LocalScoreSource } from '../../../src/scores/localScoreSource.js';
import type { SubjectSourceAsk } from '../../../src/scores/scoreSource.js';
import type { SubjectRecord } from '../../../src/store/scoreSummaries.js';

const record: SubjectRecord = {
  id: 's1',
  identity: { verified: true, level: 'L2', verifiedAt: new Date('2025-01-15T00:00:00Z') },
  score: {
    subjectId: 's1',
    value: 640,
    band: 'GOOD',
    dimensions: { creditHistory: 1, behaviourPreferences: 2, fulfilmentCapacity: 3, identityTraits: 4, socialConnections: 5 },
    factors: [{ code: 'F', description: 'f' }],
    history: [
      { month: '2026-05', value: 640 },
      { month: '2026-04', value: 630 },
      { month: '2026-03', value: 620 },
    ],
    asOf: new Date('2026-05-31T00:00:00Z'),
    model: 'm1',
  },
};
const records = new Map([['s1', record], ['s2', { id: 's2', identity: { verified: false, level: null, verifiedAt: null }, score: null }]]);
const ask = (subjectId: string, fields: SubjectSourceAsk['fields'], thresholds: number[] = [], historyMonths = 0): SubjectSourceAsk => ({
  subjectId,
  fields,
  thresholds,
  historyMonths,
});

describe('LocalScoreSource', () => {
  it.each([
    ['only the asked fields', [ask('s1', ['band', 'model'])], { s1: { score: { band: 'GOOD', model: 'm1' } } }],
    ['the threshold bit, not the value', [ask('s1', ['atLeast'], [600, 700])], { s1: { score: { atLeast: new Map([[600, true], [700, false]]) } } }],
    ['history cut to the window', [ask('s1', ['history'], [], 2)], { s1: { score: { history: record.score!.history.slice(0, 2) } } }],
    ['identity alone', [ask('s1', ['identity'])], { s1: { identity: record.identity } }],
    ['a null summary for a subject without a score', [ask('s2', ['band', 'identity'])], { s2: { score: null, identity: records.get('s2')!.identity } }],
    ['nothing for a subject it does not hold', [ask('ghost', ['band'])], {}],
  ])('hands over %s', async (_name, asks, expected) => {
    const data = await new LocalScoreSource().fetchReleased(asks, records);
    expect(data.ok && Object.fromEntries(data.subjects)).toEqual(expected);
  });
});
