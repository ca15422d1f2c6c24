import type { Sql } from '../store/database.js';

export interface AuditAges {
  /** Seconds since the event at the chain head was written; NaN on an empty chain. */
  headAgeSeconds: number;
  /** Seconds since the newest signed checkpoint; NaN when none was ever signed. */
  checkpointAgeSeconds: number;
}

/**
 * How stale the shared audit log is, read from the database so every replica
 * reports the same figure: an old head on a busy gateway means appends stopped,
 * an old checkpoint means signing stopped. One indexed lookup each.
 */
export async function readAuditAges(db: Sql, now: Date): Promise<AuditAges> {
  const [row] = await db.query<{ head_at: Date | null; checkpoint_at: Date | null }>(
    `SELECT (SELECT e.at FROM audit_events e WHERE e.seq = h.seq) AS head_at,
            (SELECT c.at FROM audit_checkpoints c ORDER BY c.seq DESC LIMIT 1) AS checkpoint_at
     FROM audit_head h WHERE h.id = 1`,
  );
  const age = (at: Date | null | undefined) => (at ? Math.max(0, (now.getTime() - new Date(at).getTime()) / 1000) : NaN);
  return { headAgeSeconds: age(row?.head_at), checkpointAgeSeconds: age(row?.checkpoint_at) };
}
