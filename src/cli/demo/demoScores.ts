import { SCORE_MAX, SCORE_MIN, scoreBand } from '../../policy/scoreBand.js';
import type { ScoreDimensions, ScoreImportRecord } from '../../store/scoreSummaries.js';

export const DEMO_MODEL = 'consentry-demo-2026.1';
export const DEMO_SUBJECT_PREFIX = 'demo-subject-';
/** The subject the browser walkthrough and every demo partner's example query use. */
export const DEMO_SUBJECT = `${DEMO_SUBJECT_PREFIX}1`;
const DEMO_SEED = 20_260_101;

/** mulberry32: tiny, fast and seeded, so every seed-demo run produces the same people. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

type Random = () => number;

const between = (rnd: Random, lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, Math.round(v)));
const normal = (rnd: Random, mean: number, sd: number) => mean + sd * Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());

const POSITIVE_FACTORS = [
  { code: 'ON_TIME_PAYMENTS', description: 'No missed payments in the last 24 months' },
  { code: 'LONG_HISTORY', description: 'Credit history longer than 10 years' },
  { code: 'LOW_UTILISATION', description: 'Revolving credit utilisation below 30%' },
  { code: 'STABLE_ADDRESS', description: 'Same address for more than 5 years' },
  { code: 'VERIFIED_INCOME', description: 'Regular, verified income' },
  { code: 'CREDIT_MIX', description: 'Instalment and revolving credit, all in good standing' },
];
const NEGATIVE_FACTORS = [
  { code: 'HIGH_UTILISATION', description: 'Revolving credit utilisation above 70%' },
  { code: 'RECENT_LATE_PAYMENT', description: 'A payment more than 30 days late in the last 12 months' },
  { code: 'SHORT_HISTORY', description: 'Credit history shorter than 3 years' },
  { code: 'RECENT_ENQUIRIES', description: 'Several credit applications in the last 6 months' },
  { code: 'DEFAULT_ON_RECORD', description: 'A defaulted account in the last 6 years' },
  { code: 'IRREGULAR_INCOME', description: 'Irregular income over the last 12 months' },
];
const IDENTITY_LEVELS = ['document', 'document_liveness', 'bank_account'];

/**
 * Plausible, deterministic score summaries for `count` demo subjects, as of
 * shortly before `now`. The first subject is fixed (VERY_GOOD-to-EXCELLENT,
 * verified) so the walkthrough's answers are predictable.
 */
export function demoScoreSummaries(count: number, now: Date): ScoreImportRecord[] {
  const rnd = seededRandom(DEMO_SEED);
  return Array.from({ length: count }, (_, i) => {
    const subjectId = `${DEMO_SUBJECT_PREFIX}${i + 1}`;
    const value = i === 0 ? 712 : clamp(normal(rnd, 640, 95), SCORE_MIN, SCORE_MAX);
    const asOf = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - between(rnd, 1, 27) * 86_400_000);
    const verified = i === 0 || rnd() < 0.85;
    return {
      subjectId,
      value,
      band: scoreBand(value),
      dimensions: demoDimensions(rnd, value),
      factors: demoFactors(rnd, value),
      history: demoHistory(rnd, value, asOf, i === 0 ? 18 : between(rnd, 12, 24)),
      asOf,
      model: DEMO_MODEL,
      identity: {
        verified,
        level: verified ? IDENTITY_LEVELS[between(rnd, 0, IDENTITY_LEVELS.length - 1)]! : null,
        verifiedAt: verified ? new Date(asOf.getTime() - between(rnd, 30, 900) * 86_400_000) : null,
      },
    };
  });
}

/** Sub-scores track the overall score, each with its own spread. */
function demoDimensions(rnd: Random, value: number): ScoreDimensions {
  const centre = ((value - SCORE_MIN) / (SCORE_MAX - SCORE_MIN)) * 100;
  const dim = () => clamp(normal(rnd, centre, 12), 0, 100);
  return { creditHistory: dim(), behaviourPreferences: dim(), fulfilmentCapacity: dim(), identityTraits: dim(), socialConnections: dim() };
}

/** 2 to 4 reason codes, most important first; low scores are explained mostly by negatives. */
function demoFactors(rnd: Random, value: number): { code: string; description: string }[] {
  const negativeShare = value < 600 ? 0.85 : value < 700 ? 0.5 : 0.15;
  const pools = [[...POSITIVE_FACTORS], [...NEGATIVE_FACTORS]];
  return Array.from({ length: between(rnd, 2, 4) }, () => {
    const pool = rnd() < negativeShare ? pools[1]! : pools[0]!;
    return pool.splice(between(rnd, 0, pool.length - 1), 1)[0]!;
  });
}

/** Monthly scores, newest first, walking back from today's value. */
function demoHistory(rnd: Random, value: number, asOf: Date, months: number): { month: string; value: number }[] {
  const points: { month: string; value: number }[] = [];
  let current = value;
  for (let m = 0; m < months; m++) {
    const date = new Date(Date.UTC(asOf.getUTCFullYear(), asOf.getUTCMonth() - m, 1));
    points.push({ month: date.toISOString().slice(0, 7), value: current });
    // Older months drift a little and pull back toward the population mean.
    current = clamp(current + normal(rnd, (640 - current) * 0.03, 9), SCORE_MIN, SCORE_MAX);
  }
  return points;
}
