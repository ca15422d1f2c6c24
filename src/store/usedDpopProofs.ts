import type { Sql } from './database.js';

/**
 * Remembers a DPoP proof until `expiresAt`; false when it was already
 * remembered. The insert is the check, so two replicas racing with copies of
 * one proof cannot both win.
 */
export async function rememberDpopProof(db: Sql, proofKey: string, expiresAt: Date): Promise<boolean> {
  const rows = await db.query('INSERT INTO used_dpop_proofs (proof_key, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING proof_key', [
    proofKey,
    expiresAt,
  ]);
  return rows.length > 0;
}

/** Proofs past their acceptance window can never be replayed; called periodically. */
export async function pruneUsedDpopProofs(db: Sql, now: Date): Promise<void> {
  await db.query('DELETE FROM used_dpop_proofs WHERE expires_at < $1', [now]);
}
