import { randomBytes } from 'node:crypto';
import type { Sql } from './database.js';

/** Per-subject pseudonym key material (hex), by subject id, for those of `subjectIds` that have any. */
export async function readSubjectKeys(db: Sql, subjectIds: readonly string[]): Promise<Map<string, string>> {
  if (!subjectIds.length) return new Map();
  const rows = await db.query<{ subject_id: string; key: string }>(
    `SELECT subject_id, encode(key, 'hex') AS key FROM subject_keys WHERE subject_id = ANY($1::text[])`,
    [subjectIds],
  );
  return new Map(rows.map((r) => [r.subject_id, r.key]));
}

/** Destroys a subject's key material: what makes its pseudonymous audit events unlinkable. True when there was one. */
export async function destroySubjectKey(db: Sql, subjectId: string): Promise<boolean> {
  const rows = await db.query<{ subject_id: string }>('DELETE FROM subject_keys WHERE subject_id = $1 RETURNING subject_id', [subjectId]);
  return rows.length > 0;
}

export interface PseudonymSettings {
  /** The gateway-wide key (hex), for ids the gateway holds no key for. */
  gatewayKey: string;
  /** Events up to this seq were written before pseudonyms and name subjects by plain id. */
  plainIdsThroughSeq: string;
}

/**
 * The gateway-wide key, made on first use by whichever process gets there
 * first (the others read the one stored), and the plain-id cut-off.
 */
export async function readPseudonymSettings(db: Sql, now: Date): Promise<PseudonymSettings> {
  const rows = await db.query<{ name: string; value: string }>(
    `WITH made AS (
       INSERT INTO gateway_settings (name, value, updated_at) VALUES ('subject_pseudonym_key', $1, $2)
       ON CONFLICT (name) DO NOTHING RETURNING name, value
     )
     SELECT name, value FROM made
     UNION ALL
     SELECT name, value FROM gateway_settings WHERE name IN ('subject_pseudonym_key', 'plain_subject_ids_through_seq')`,
    [randomBytes(32).toString('hex'), now],
  );
  const value = (name: string) => rows.find((r) => r.name === name)?.value;
  const gatewayKey = value('subject_pseudonym_key');
  if (!gatewayKey) throw new Error('the gateway-wide pseudonym key is missing');
  return { gatewayKey, plainIdsThroughSeq: value('plain_subject_ids_through_seq') ?? '0' };
}
