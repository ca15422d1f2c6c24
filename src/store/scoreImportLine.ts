import { z } from 'zod';
import { SCORE_MAX, SCORE_MIN, scoreBand, type ScoreBand } from '../policy/scoreBand.js';
import type { ScoreImportRecord } from './scoreSummaries.js';

/**
 * One line of a `consentry scores import` file (NDJSON, one subject a line).
 * The band is derived from the value; a line that states a band must agree
 * with it, because a disagreeing line means the exporting system uses other
 * boundaries and none of its figures can be trusted as-is.
 */
const score = z.number().int('must be a whole number').min(SCORE_MIN, `must be from ${SCORE_MIN} to ${SCORE_MAX}`).max(SCORE_MAX, `must be from ${SCORE_MIN} to ${SCORE_MAX}`);
const dimension = z.number().int('must be a whole number').min(0, 'must be from 0 to 100').max(100, 'must be from 0 to 100');
const isoDateTime = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time, e.g. 2026-06-30T00:00:00Z' });

const scoreLine = z.strictObject({
  subjectId: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  value: score,
  band: z.enum(['POOR', 'FAIR', 'GOOD', 'VERY_GOOD', 'EXCELLENT']).optional(),
  dimensions: z.strictObject({
    creditHistory: dimension,
    behaviourPreferences: dimension,
    fulfilmentCapacity: dimension,
    identityTraits: dimension,
    socialConnections: dimension,
  }),
  factors: z
    .array(z.strictObject({ code: z.string().trim().min(1, 'must not be empty').max(64), description: z.string().trim().min(1, 'must not be empty').max(500) }))
    .max(20, 'at most 20 reason codes'),
  history: z
    .array(z.strictObject({ month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be YYYY-MM'), value: score }))
    .max(120, 'at most 120 months'),
  asOf: isoDateTime,
  model: z.string().trim().min(1, 'must not be empty').max(100),
  identity: z
    .strictObject({
      verified: z.boolean(),
      level: z.string().max(50).nullish(),
      verifiedAt: isoDateTime.nullish(),
    })
    .optional(),
});

export type ScoreLineResult = { ok: true; record: ScoreImportRecord } | { ok: false; reason: string };

/** Parses and validates one line; never throws. */
export function parseScoreImportLine(text: string): ScoreLineResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not valid JSON' };
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) return { ok: false, reason: 'a line must be a JSON object' };
  const parsed = scoreLine.safeParse(json, { reportInput: true });
  if (!parsed.success) return { ok: false, reason: describeIssues(parsed.error.issues) };
  const line = parsed.data;
  const band: ScoreBand = scoreBand(line.value);
  if (line.band !== undefined && line.band !== band) {
    return { ok: false, reason: `band ${line.band} disagrees with value ${line.value} (${band})` };
  }
  const months = line.history.map((h) => h.month);
  const repeated = months.find((m, i) => months.indexOf(m) !== i);
  if (repeated) return { ok: false, reason: `history: month ${repeated} appears twice` };
  return {
    ok: true,
    record: {
      subjectId: line.subjectId,
      value: line.value,
      band,
      dimensions: line.dimensions,
      factors: line.factors,
      // Stored newest first whatever order the exporter used.
      history: [...line.history].sort((a, b) => (a.month < b.month ? 1 : -1)),
      asOf: new Date(line.asOf),
      model: line.model,
      identity: line.identity && {
        verified: line.identity.verified,
        level: line.identity.level ?? null,
        verifiedAt: line.identity.verifiedAt ? new Date(line.identity.verifiedAt) : null,
      },
    },
  };
}

function describeIssues(issues: z.core.$ZodIssue[]): string {
  return issues
    .slice(0, 3)
    .map((i) => {
      const path = i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
      const message = i.code !== 'invalid_type' ? i.message : i.input === undefined ? 'is required' : `must be ${article(i.expected)}`;
      return path ? `${path}: ${message}` : message;
    })
    .join('; ');
}

function article(type: string): string {
  if (type === 'int') return 'a whole number';
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
