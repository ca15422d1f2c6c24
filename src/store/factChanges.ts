import type { Sql } from './database.js';

/**
 * How long notes of changes to decision facts are kept (see the FactChanges
 * migration). A gateway's cached facts older than this are compared one by
 * one at their next append, which confirms them afresh; nothing else depends
 * on the notes.
 */
export const FACT_CHANGES_KEEP_SECONDS = 3600;

/**
 * Deletes notes older than `keepSeconds` and raises the floor above every
 * deleted transaction id, in one statement, so a check never trusts a basis
 * whose later changes may have been deleted. Returns how many were deleted.
 */
export async function pruneFactChanges(sql: Sql, keepSeconds = FACT_CHANGES_KEEP_SECONDS): Promise<number> {
  const [row] = await sql.query<{ deleted: number }>(
    `WITH gone AS (
       DELETE FROM fact_changes WHERE at < now() - make_interval(secs => $1) RETURNING xid
     ), raised AS (
       -- xid8 has no arithmetic: the next id after the largest deleted, through numeric.
       UPDATE fact_changes_floor fl
       SET xid = GREATEST(fl.xid, (SELECT (max(g.xid::text::numeric) + 1)::text::xid8 FROM gone g))
       WHERE fl.id = 1 AND EXISTS (SELECT 1 FROM gone)
     )
     SELECT count(*)::int AS deleted FROM gone`,
    [keepSeconds],
  );
  return row?.deleted ?? 0;
}
