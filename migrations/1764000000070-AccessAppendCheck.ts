import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `audit_append_checked(events, checks)`: the access append that is also the
 * freshness check of the facts its decisions were made from. Gateways keep
 * decision facts (partner state, live consents, consenting subjects' data) in
 * a per-process cache; each request names the facts it used, and its events
 * are placed only if those facts are still what the database holds, checked
 * after the chain head is locked (so with a snapshot that sees every change
 * committed before): the partner's status, scopes and purposes; for each
 * subject the exact set of live consents to the partner; and, for each
 * subject whose data was used, the row versions of that data, the version
 * of each subject's pseudonym key (an erasure destroys it), and, when the
 * request was let through on it, the partner's trusted-documents standing
 * (its mode; the registration of the document's hash; null: not checked). A request
 * whose facts moved gets no events placed (a row with a null seq) and
 * decides again from a fresh read. Events of the other requests in the same
 * group are placed as usual. Each event carries `req`, the index of its
 * request's check in `checks`.
 */
export class AccessAppendCheck1764000000070 implements MigrationInterface {
  name = 'AccessAppendCheck1764000000070';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION audit_append_checked(events jsonb, checks jsonb)
        RETURNS TABLE (req int, seq bigint, prev_hash text, hash text)
      LANGUAGE plpgsql AS $$
      #variable_conflict use_column
      DECLARE
        stale int[];
        placed jsonb;
      BEGIN
        PERFORM 1 FROM audit_head h WHERE h.id = 1 FOR UPDATE;
        -- A new statement, so a new snapshot: it sees every change committed before the lock was granted.
        SELECT COALESCE(array_agg(c.req), '{}') INTO stale
        FROM jsonb_to_recordset(checks) AS c(req int, partner_id text, status text, scopes jsonb, purposes jsonb, subjects jsonb,
                                             "trustedDocumentsOnly" boolean, "documentHash" text)
        WHERE NOT EXISTS (
                SELECT 1 FROM partners p
                WHERE p.id = c.partner_id AND p.status = c.status AND p.scopes = c.scopes AND p.purposes = c.purposes
                  AND (c."trustedDocumentsOnly" IS NULL OR p.trusted_documents_only = c."trustedDocumentsOnly"))
           -- Let through as a registered document of a trusted-documents-only partner: still registered.
           OR (c."trustedDocumentsOnly" AND NOT EXISTS (
                SELECT 1 FROM partner_trusted_documents d WHERE d.partner_id = c.partner_id AND d.hash = c."documentHash"))
           OR EXISTS (
                SELECT 1
                FROM jsonb_to_recordset(c.subjects) AS s(id text, consents text[], stamp text, "keyStamp" text)
                CROSS JOIN LATERAL (
                  SELECT COALESCE(array_agg(k.id::text), '{}') AS ids FROM consents k
                  WHERE k.partner_id = c.partner_id AND k.subject_id = s.id
                    AND k.revoked_at IS NULL AND k.expiry_recorded_at IS NULL) live
                WHERE NOT (live.ids @> s.consents AND live.ids <@ s.consents)
                   OR (s.stamp IS NOT NULL AND s.stamp IS DISTINCT FROM (
                        SELECT sj.xmin::text || '/' || COALESCE(ss.xmin::text, '-')
                        FROM subjects sj LEFT JOIN score_summaries ss ON ss.subject_id = sj.id
                        WHERE sj.id = s.id))
                   OR s."keyStamp" IS DISTINCT FROM (SELECT k.xmin::text FROM subject_keys k WHERE k.subject_id = s.id));
        SELECT COALESCE(jsonb_agg(x.e ORDER BY x.n), '[]') INTO placed
        FROM jsonb_array_elements(events) WITH ORDINALITY AS x(e, n)
        WHERE NOT (x.e->>'req')::int = ANY (stale);
        -- The sequencer places the rest (the lock is already this transaction's) and returns them in order.
        RETURN QUERY
          SELECT (p.e->>'req')::int, a.seq, a.prev_hash, a.hash
          FROM jsonb_array_elements(placed) WITH ORDINALITY AS p(e, n)
          JOIN (SELECT s.*, row_number() OVER (ORDER BY s.seq) AS n FROM audit_append(placed) AS s) a ON a.n = p.n
          UNION ALL SELECT s, NULL::bigint, NULL::text, NULL::text FROM unnest(stale) AS s;
      END
      $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP FUNCTION IF EXISTS audit_append_checked(jsonb, jsonb)');
  }
}
