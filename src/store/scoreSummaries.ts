import type { ScoreBand } from '../policy/scoreBand.js';
import type { Sql } from './database.js';

export interface ScoreDimensions {
  creditHistory: number;
  behaviourPreferences: number;
  fulfilmentCapacity: number;
  identityTraits: number;
  socialConnections: number;
}

export interface ScoreSummaryRecord {
  subjectId: string;
  value: number;
  band: ScoreBand;
  dimensions: ScoreDimensions;
  factors: { code: string; description: string }[];
  /** Newest first. */
  history: { month: string; value: number }[];
  asOf: Date;
  model: string;
}

export interface IdentityRecord {
  verified: boolean;
  level: string | null;
  verifiedAt: Date | null;
}

export interface SubjectRecord {
  id: string;
  identity: IdentityRecord;
  score: ScoreSummaryRecord | null;
}

/** A subject row joined with its summary, as a plain SELECT or json_build_object returns it (timestamps as Date or ISO text). */
export interface SubjectRow {
  id: string;
  identity_verified: boolean;
  identity_level: string | null;
  identity_verified_at: Date | string | null;
  value: number | null;
  band: ScoreBand;
  dimensions: ScoreDimensions;
  factors: ScoreSummaryRecord['factors'];
  history: ScoreSummaryRecord['history'];
  as_of: Date | string;
  model: string;
}

export function subjectFromRow(r: SubjectRow): SubjectRecord {
  return {
    id: r.id,
    identity: {
      verified: r.identity_verified,
      level: r.identity_level,
      verifiedAt: r.identity_verified_at ? new Date(r.identity_verified_at) : null,
    },
    score:
      r.value === null
        ? null
        : {
            subjectId: r.id,
            value: r.value,
            band: r.band,
            dimensions: r.dimensions,
            factors: r.factors,
            history: r.history,
            asOf: new Date(r.as_of),
            model: r.model,
          },
  };
}

/** A summary as imported: the stored summary plus, optionally, the subject's identity check. */
export interface ScoreImportRecord extends ScoreSummaryRecord {
  identity?: IdentityRecord;
}

/** Upserts subjects and their summaries in one statement pair (used by import and the demo seed). */
export async function upsertScoreSummaries(db: Sql, records: readonly ScoreImportRecord[]): Promise<void> {
  if (!records.length) return;
  const payload = JSON.stringify(
    records.map((r) => ({
      id: r.subjectId,
      value: r.value,
      band: r.band,
      dimensions: r.dimensions,
      factors: r.factors,
      history: r.history,
      as_of: r.asOf.toISOString(),
      model: r.model,
      verified: r.identity?.verified ?? false,
      level: r.identity?.level ?? null,
      verified_at: r.identity?.verifiedAt?.toISOString() ?? null,
    })),
  );
  await db.query(
    `INSERT INTO subjects (id, identity_verified, identity_level, identity_verified_at)
     SELECT x.id, x.verified, x.level, x.verified_at::timestamptz
     FROM jsonb_to_recordset($1::jsonb) AS x(id text, verified boolean, level text, verified_at text)
     ON CONFLICT (id) DO UPDATE SET identity_verified = EXCLUDED.identity_verified,
       identity_level = EXCLUDED.identity_level, identity_verified_at = EXCLUDED.identity_verified_at`,
    [payload],
  );
  await db.query(
    `INSERT INTO score_summaries (subject_id, value, band, dimensions, factors, history, as_of, model)
     SELECT x.id, x.value, x.band, x.dimensions, x.factors, x.history, x.as_of::timestamptz, x.model
     FROM jsonb_to_recordset($1::jsonb) AS x(id text, value int, band text, dimensions jsonb, factors jsonb,
                                             history jsonb, as_of text, model text)
     ON CONFLICT (subject_id) DO UPDATE SET value = EXCLUDED.value, band = EXCLUDED.band,
       dimensions = EXCLUDED.dimensions, factors = EXCLUDED.factors, history = EXCLUDED.history,
       as_of = EXCLUDED.as_of, model = EXCLUDED.model, updated_at = now()`,
    [payload],
  );
}

/** Erasure: deletes the subject's score summary and its row (identity check). Says which existed. */
export async function deleteSubjectData(db: Sql, subjectId: string): Promise<{ scoreDeleted: boolean; identityDeleted: boolean }> {
  const score = await db.query('DELETE FROM score_summaries WHERE subject_id = $1 RETURNING subject_id', [subjectId]);
  const identity = await db.query('DELETE FROM subjects WHERE id = $1 RETURNING id', [subjectId]);
  return { scoreDeleted: score.length > 0, identityDeleted: identity.length > 0 };
}
