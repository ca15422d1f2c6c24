import { scoreBand } from '../src/policy/scoreBand.js';
import type { ScoreImportRecord } from '../src/store/scoreSummaries.js';

/** The same deterministic subjects for both servers. */
export function benchSubjects(n: number): ScoreImportRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const value = 350 + ((i * 37) % 601);
    return {
      subjectId: `bench-${i}`,
      value,
      band: scoreBand(value),
      dimensions: { creditHistory: i % 101, behaviourPreferences: (i * 3) % 101, fulfilmentCapacity: (i * 7) % 101, identityTraits: (i * 11) % 101, socialConnections: (i * 13) % 101 },
      factors: [
        { code: 'PAYMENT_HISTORY_STRONG', description: 'Bills paid on time' },
        { code: 'HIGH_UTILISATION', description: 'Credit lines mostly used' },
      ],
      history: Array.from({ length: 12 }, (_, m) => ({ month: `2026-${String(12 - m).padStart(2, '0')}`, value: Math.max(350, value - m) })),
      asOf: new Date('2026-11-01T00:00:00Z'),
      model: 'consentry-bench-1',
      identity: { verified: i % 5 !== 0, level: 'L2', verifiedAt: new Date('2025-06-01T00:00:00Z') },
    };
  });
}

export const ALL_CATEGORIES = ['score.threshold', 'score.band', 'score.value', 'score.dimensions', 'score.factors', 'score.history', 'identity.verified'];

export const EVERY_FIELD = `id score { atLeast(threshold: 650) band value dimensions { creditHistory behaviourPreferences fulfilmentCapacity identityTraits socialConnections } factors { code description } history(months: 6) { month value } asOf model } identity { verified level verifiedAt }`;
