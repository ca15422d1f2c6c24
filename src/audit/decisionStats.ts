import type { Sql } from '../store/database.js';
import { auditFilterSql } from './auditFilter.js';

/**
 * Aggregates over access decisions (kind `access`) for reports and the
 * compliance page. Counts are of access events: one per (request, subject).
 * Each function is one query, whatever the period.
 */
export interface DecisionScope {
  partnerId?: string;
  /** Inclusive. */
  from: string;
  /** Exclusive. */
  to: string;
}

function scopeSql(scope: DecisionScope) {
  const { where, params } = auditFilterSql({ kind: 'access', partnerId: scope.partnerId, from: scope.from, to: scope.to });
  return { where: `WHERE ${where.join(' AND ')}`, params };
}

const RELEASED = `jsonb_array_length(released) > 0`;
const DENIED = `jsonb_array_length(denied) > 0`;

export interface DecisionTotals {
  requests: number;
  accessEvents: number;
  distinctSubjects: number;
  releasedEvents: number;
  deniedEvents: number;
}

export async function decisionTotals(db: Sql, scope: DecisionScope): Promise<DecisionTotals> {
  const { where, params } = scopeSql(scope);
  const [row] = await db.query<DecisionTotals>(
    `SELECT count(DISTINCT request_id)::int AS "requests", count(*)::int AS "accessEvents",
            count(DISTINCT subject_id)::int AS "distinctSubjects",
            count(*) FILTER (WHERE ${RELEASED})::int AS "releasedEvents",
            count(*) FILTER (WHERE ${DENIED})::int AS "deniedEvents"
     FROM audit_events ${where}`,
    params,
  );
  return row!;
}

export interface DayDecisions {
  partnerId: string;
  /** YYYY-MM-DD, UTC. */
  day: string;
  accessEvents: number;
  releasedEvents: number;
  deniedEvents: number;
}

/** Per partner and UTC day, oldest first. */
export async function decisionsPerDay(db: Sql, scope: DecisionScope): Promise<DayDecisions[]> {
  const { where, params } = scopeSql(scope);
  return db.query<DayDecisions>(
    `SELECT partner_id AS "partnerId", to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, count(*)::int AS "accessEvents",
            count(*) FILTER (WHERE ${RELEASED})::int AS "releasedEvents",
            count(*) FILTER (WHERE ${DENIED})::int AS "deniedEvents"
     FROM audit_events ${where}
     GROUP BY 1, 2 ORDER BY 2, 1`,
    params,
  );
}

export interface PurposeDecisions {
  purpose: string;
  accessEvents: number;
  releasedEvents: number;
  deniedEvents: number;
}

export async function decisionsByPurpose(db: Sql, scope: DecisionScope): Promise<PurposeDecisions[]> {
  const { where, params } = scopeSql(scope);
  return db.query<PurposeDecisions>(
    `SELECT purpose, count(*)::int AS "accessEvents",
            count(*) FILTER (WHERE ${RELEASED})::int AS "releasedEvents",
            count(*) FILTER (WHERE ${DENIED})::int AS "deniedEvents"
     FROM audit_events ${where}
     GROUP BY purpose ORDER BY 2 DESC, 1`,
    params,
  );
}

export async function releasedByCategory(db: Sql, scope: DecisionScope): Promise<{ category: string; count: number }[]> {
  const { where, params } = scopeSql(scope);
  return db.query(
    `SELECT c AS category, count(*)::int AS count
     FROM audit_events e CROSS JOIN LATERAL jsonb_array_elements_text(e.released) AS c
     ${where} GROUP BY c ORDER BY 2 DESC, 1`,
    params,
  );
}

/** Denied categories counted by (category, code); callers fold them either way. */
export async function denials(db: Sql, scope: DecisionScope): Promise<{ category: string; code: string; count: number }[]> {
  const { where, params } = scopeSql(scope);
  return db.query(
    `SELECT d->>'category' AS category, d->>'code' AS code, count(*)::int AS count
     FROM audit_events e CROSS JOIN LATERAL jsonb_array_elements(e.denied) AS d
     ${where} GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2`,
    params,
  );
}

/** Sums counts by one key, largest first. */
export function sumCounts<R extends { count: number }>(rows: readonly R[], key: (r: R) => string): { key: string; count: number }[] {
  const sums = new Map<string, number>();
  for (const r of rows) sums.set(key(r), (sums.get(key(r)) ?? 0) + r.count);
  return [...sums].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([k, count]) => ({ key: k, count }));
}
