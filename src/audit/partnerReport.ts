import type { Config } from '../config.js';
import { BadUserInputError } from '../errors.js';
import type { Sql } from '../store/database.js';
import {
  decisionTotals,
  decisionsByPurpose,
  decisionsPerDay,
  denials,
  releasedByCategory,
  sumCounts,
  type DecisionTotals,
  type PurposeDecisions,
} from './decisionStats.js';
import { assessProbing, flagsSince, probingThresholds, windowStats, type ProbingAssessment } from './probing.js';

export const DEFAULT_REPORT_DAYS = 30;

export interface PartnerReport extends DecisionTotals {
  partnerId: string;
  from: string;
  to: string;
  releasedByCategory: { category: string; count: number }[];
  deniedByCategory: { category: string; count: number }[];
  deniedByCode: { code: string; count: number }[];
  byPurpose: PurposeDecisions[];
  perDay: { day: string; accessEvents: number; releasedEvents: number; deniedEvents: number }[];
  probing: ProbingAssessment & { windowMinutes: number; lastFlaggedAt: string | null };
}

/**
 * What one partner asked for over a period and what it was given, with the
 * probing assessment over the window ending at the period's end. Never a
 * score: the audit log holds none.
 */
export async function partnerReport(
  db: Sql,
  probingConfig: Config['probing'],
  input: { partnerId: string; from?: string | null; to?: string | null; now: Date },
): Promise<PartnerReport> {
  const to = input.to ? new Date(input.to) : input.now;
  const from = input.from ? new Date(input.from) : new Date(to.getTime() - DEFAULT_REPORT_DAYS * 86_400_000);
  if (!(from < to)) throw new BadUserInputError('from must be before to.', { argument: 'from' });
  const scope = { partnerId: input.partnerId, from: from.toISOString(), to: to.toISOString() };
  const thresholds = probingThresholds(probingConfig);
  const windowEnd = to < input.now ? to : input.now;
  const windowStart = new Date(windowEnd.getTime() - thresholds.windowMinutes * 60_000);

  const [totals, perDay, byPurpose, released, denied, [stats], [flag]] = await Promise.all([
    decisionTotals(db, scope),
    decisionsPerDay(db, scope),
    decisionsByPurpose(db, scope),
    releasedByCategory(db, scope),
    denials(db, scope),
    windowStats(db, windowStart, windowEnd, input.partnerId),
    flagsSince(db, new Date(0), input.partnerId),
  ]);
  const assessment = assessProbing(stats ?? { partnerId: input.partnerId, accessEvents: 0, deniedEvents: 0, distinctNonConsenting: 0 }, thresholds);
  const flaggedInWindow = !!flag && new Date(flag.at) >= windowStart && new Date(flag.at) <= windowEnd;
  return {
    partnerId: input.partnerId,
    from: scope.from,
    to: scope.to,
    ...totals,
    releasedByCategory: released,
    deniedByCategory: sumCounts(denied, (d) => d.category).map(({ key, count }) => ({ category: key, count })),
    deniedByCode: sumCounts(denied, (d) => d.code).map(({ key, count }) => ({ code: key, count })),
    byPurpose,
    perDay: perDay.map(({ partnerId: _p, ...day }) => day),
    probing: {
      ...assessment,
      flagged: assessment.flagged || flaggedInWindow,
      reasons: assessment.flagged ? assessment.reasons : flaggedInWindow ? flag!.reasons : [],
      windowMinutes: thresholds.windowMinutes,
      lastFlaggedAt: flag?.at ?? null,
    },
  };
}
