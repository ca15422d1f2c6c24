import type { Sql } from '../store/database.js';
import type { PartnerWindowStats } from './probing.js';

const MINUTE_MS = 60_000;

/** The probing rule's two kinds of access decision, as SQL over audit_events: one definition for every query. */
export const DENIED_SQL = 'jsonb_array_length(denied) > 0';
export const NON_CONSENTING_SQL = `denied @> '[{"code":"CONSENT_REQUIRED"}]'`;
/**
 * The counts reach this far before the window's start. Replicas' clocks differ
 * by a little, and a window starting before what the counts hold forces a
 * rebuild: the margin keeps a replica a few seconds behind from rebuilding.
 */
export const COUNT_MARGIN_MS = 5 * MINUTE_MS;

/** How far the counts reach: every access event up to `throughSeq` whose `at` is at or after `since`. */
export interface CountedThrough {
  throughSeq: bigint;
  since: Date;
}

export interface WindowTally {
  stats: PartnerWindowStats[];
  counted: CountedThrough;
  /** The counts were rebuilt from the log (first evaluation, a longer window, a clock gone back). */
  rebuilt: boolean;
}

/**
 * Every partner's statistics over [windowStart, now], from running counts
 * brought up to date with the access events appended since the previous
 * evaluation, so an evaluation reads what is new, not the whole window.
 *
 * Exact, not approximate: whole minutes come from per-minute counts, the
 * window's first partial minute from the events themselves (at most one
 * minute of them), and distinct non-consenting subjects from each one's last
 * time. Reading by seq counts each event once: the head row's lock is held
 * until an append commits, so when seq N is visible every seq below it is.
 *
 * The caller holds the detector's advisory lock for the transaction: one
 * evaluation at a time moves the counts.
 */
export async function tallyWindow(tx: Sql, windowStart: Date, previous: CountedThrough | undefined): Promise<WindowTally> {
  const [{ head }] = await tx.query<{ head: string }>(`SELECT coalesce(max(seq), 0)::text AS head FROM audit_events`);
  const throughSeq = BigInt(head);
  const keepFrom = new Date(windowStart.getTime() - COUNT_MARGIN_MS);
  const rebuilt = !previous || windowStart < previous.since || throughSeq < previous.throughSeq;
  let since: Date;
  if (rebuilt) {
    await tx.query('DELETE FROM probing_minutes');
    await tx.query('DELETE FROM probing_strangers');
    await tx.query(countEvents('at >= $2'), [head, keepFrom]);
    since = keepFrom;
  } else {
    await tx.query(countEvents('seq > $2'), [head, previous.throughSeq.toString()]);
    since = previous.since;
    if (keepFrom > since) {
      await tx.query(`DELETE FROM probing_minutes WHERE minute < $1`, [floorToMinute(keepFrom)]);
      await tx.query(`DELETE FROM probing_strangers WHERE last_at < $1`, [keepFrom]);
      since = keepFrom;
    }
  }
  const stats = await tx.query<PartnerWindowStats>(WINDOW_STATS, [windowStart, ceilToMinute(windowStart), head]);
  return { stats, counted: { throughSeq, since }, rebuilt };
}

/** Adds the access events matching `range` (its parameter is $2) and up to seq $1 to the counts. */
function countEvents(range: string): string {
  return `
    WITH fresh AS MATERIALIZED (
      SELECT partner_id, subject_id, at, denied FROM audit_events
      WHERE kind = 'access' AND partner_id IS NOT NULL AND seq <= $1::bigint AND ${range}
    ), minutes AS (
      INSERT INTO probing_minutes (partner_id, minute, access_events, denied_events)
      SELECT partner_id, to_timestamp(floor(extract(epoch FROM at) / 60) * 60), count(*),
             count(*) FILTER (WHERE ${DENIED_SQL})
      FROM fresh GROUP BY 1, 2
      ON CONFLICT (partner_id, minute) DO UPDATE
        SET access_events = probing_minutes.access_events + excluded.access_events,
            denied_events = probing_minutes.denied_events + excluded.denied_events
    )
    INSERT INTO probing_strangers (partner_id, subject_id, last_at)
    SELECT partner_id, subject_id, max(at) FROM fresh
    WHERE subject_id IS NOT NULL AND ${NON_CONSENTING_SQL}
    GROUP BY 1, 2
    ON CONFLICT (partner_id, subject_id) DO UPDATE SET last_at = greatest(probing_strangers.last_at, excluded.last_at)`;
}

/** $1 the window's start, $2 the first whole minute in it, $3 the seq the counts reach. */
const WINDOW_STATS = `
  WITH counted AS (
    SELECT partner_id, sum(access_events) AS access_events, sum(denied_events) AS denied_events
    FROM probing_minutes WHERE minute >= $2 GROUP BY partner_id
    UNION ALL
    SELECT partner_id, count(*), count(*) FILTER (WHERE ${DENIED_SQL})
    FROM audit_events
    WHERE kind = 'access' AND at >= $1 AND at < $2 AND seq <= $3::bigint AND partner_id IS NOT NULL
    GROUP BY partner_id
  ), strangers AS (
    SELECT partner_id, count(*) AS subjects FROM probing_strangers WHERE last_at >= $1 GROUP BY partner_id
  )
  SELECT c.partner_id AS "partnerId", sum(c.access_events)::int AS "accessEvents", sum(c.denied_events)::int AS "deniedEvents",
         coalesce(max(s.subjects), 0)::int AS "distinctNonConsenting"
  FROM counted c LEFT JOIN strangers s USING (partner_id)
  GROUP BY c.partner_id`;

function floorToMinute(t: Date): Date {
  return new Date(Math.floor(t.getTime() / MINUTE_MS) * MINUTE_MS);
}

function ceilToMinute(t: Date): Date {
  return new Date(Math.ceil(t.getTime() / MINUTE_MS) * MINUTE_MS);
}
