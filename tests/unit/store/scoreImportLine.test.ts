import { describe, expect, it } from 'vitest';
import { parseScoreImportLine } from '../../../src/store/scoreImportLine.js';

const good = {
  subjectId: 's-1001',
  value: 712,
  dimensions: { creditHistory: 81, behaviourPreferences: 64, fulfilmentCapacity: 70, identityTraits: 90, socialConnections: 55 },
  factors: [{ code: 'PAYMENT_HISTORY', description: 'No missed payments in 24 months' }],
  history: [
    { month: '2026-04', value: 698 },
    { month: '2026-05', value: 705 },
  ],
  asOf: '2026-06-01T00:00:00Z',
  model: 'scorer-2026.1',
  identity: { verified: true, level: 'document', verifiedAt: '2025-11-02T10:00:00Z' },
};
const line = (overrides: Record<string, unknown>) => JSON.stringify({ ...good, ...overrides });

describe('parseScoreImportLine', () => {
  it('derives the band, sorts history newest first and parses dates', () => {
    expect(parseScoreImportLine(JSON.stringify(good))).toEqual({
      ok: true,
      record: {
        subjectId: 's-1001',
        value: 712,
        band: 'EXCELLENT',
        dimensions: good.dimensions,
        factors: good.factors,
        history: [
          { month: '2026-05', value: 705 },
          { month: '2026-04', value: 698 },
        ],
        asOf: new Date('2026-06-01T00:00:00Z'),
        model: 'scorer-2026.1',
        identity: { verified: true, level: 'document', verifiedAt: new Date('2025-11-02T10:00:00Z') },
      },
    });
  });

  it('accepts a band that agrees and a line without identity', () => {
    const { identity: _identity, ...withoutIdentity } = good;
    const result = parseScoreImportLine(JSON.stringify({ ...withoutIdentity, value: 650, band: 'VERY_GOOD' }));
    expect(result).toMatchObject({ ok: true, record: { band: 'VERY_GOOD', identity: undefined } });
  });

  it.each([
    ['not JSON', '{"subjectId": ', 'not valid JSON'],
    ['a JSON array', '[1, 2]', 'a line must be a JSON object'],
    ['null', 'null', 'a line must be a JSON object'],
    ['a disagreeing band', line({ band: 'GOOD' }), 'band GOOD disagrees with value 712 (EXCELLENT)'],
    ['a value below the scale', line({ value: 349 }), 'value: must be from 350 to 950'],
    ['a value above the scale', line({ value: 951 }), 'value: must be from 350 to 950'],
    ['a fractional value', line({ value: 700.5 }), 'value: must be a whole number'],
    ['a value as text', line({ value: '700' }), 'value: must be a number'],
    ['an empty subject id', line({ subjectId: ' ' }), 'subjectId: must not be empty'],
    ['a dimension above 100', line({ dimensions: { ...good.dimensions, socialConnections: 101 } }), 'dimensions.socialConnections: must be from 0 to 100'],
    ['a missing dimension', line({ dimensions: { creditHistory: 1, behaviourPreferences: 2, fulfilmentCapacity: 3, identityTraits: 4 } }), 'dimensions.socialConnections: is required'],
    ['a bad month', line({ history: [{ month: '2026-13', value: 700 }] }), 'history[0].month: must be YYYY-MM'],
    ['a month twice', line({ history: [{ month: '2026-01', value: 700 }, { month: '2026-01', value: 701 }] }), 'history: month 2026-01 appears twice'],
    ['a date that is not ISO 8601', line({ asOf: 'yesterday' }), 'asOf: must be an ISO 8601 date-time, e.g. 2026-06-30T00:00:00Z'],
    ['an unknown member', line({ score: 700 }), 'Unrecognized key: "score"'],
    ['a factor without description', line({ factors: [{ code: 'X' }] }), 'factors[0].description: is required'],
    ['several problems (the first three)', JSON.stringify({ subjectId: 's' }), 'value: is required; dimensions: is required; factors: is required'],
  ])('rejects %s', (_name, text, reason) => {
    expect(parseScoreImportLine(text)).toEqual({ ok: false, reason });
  });
});
