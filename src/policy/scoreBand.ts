export type ScoreBand = 'POOR' | 'FAIR' | 'GOOD' | 'VERY_GOOD' | 'EXCELLENT';

export const SCORE_MIN = 350;
export const SCORE_MAX = 950;

/** Band boundaries fixed by the contract. */
export function scoreBand(value: number): ScoreBand {
  if (value < 550) return 'POOR';
  if (value < 600) return 'FAIR';
  if (value < 650) return 'GOOD';
  if (value < 700) return 'VERY_GOOD';
  return 'EXCELLENT';
}
