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
        head_seq bigint;
        head_hash text;
        e jsonb;
        stale int[];
        n int := 0;
        ords int[] := '{}';
        reqs int[] := '{}';
        seqs bigint[] := '{}';
        prevs text[] := '{}';
        hashes text[] := '{}';
        next_hash text;
      BEGIN
        SELECT h.seq, h.hash INTO head_seq, head_hash FROM audit_head h WHERE h.id = 1 FOR UPDATE;
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
        FOR e IN SELECT value FROM jsonb_array_elements(events) LOOP
          n := n + 1;
          CONTINUE WHEN (e->>'req')::int = ANY (stale);
          head_seq := head_seq + 1;
          next_hash := encode(sha256(convert_to(
            (e->>'before') || to_json(head_hash)::text || (e->>'between') || to_json(head_seq::text)::text || (e->>'after'),
            'UTF8')), 'hex');
          ords := ords || n;
          reqs := reqs || (e->>'req')::int;
          seqs := seqs || head_seq;
          prevs := prevs || head_hash;
          hashes := hashes || next_hash;
          head_hash := next_hash;
        END LOOP;
        IF cardinality(seqs) > 0 THEN
          INSERT INTO audit_events (seq, at, kind, actor_type, actor_id, partner_id, subject_id, purpose, request_id,
                                    released, denied, consent_ids, details, prev_hash, hash)
          SELECT l.seq, (x.e->>'at')::timestamptz, x.e->>'kind', x.e->>'actorType', x.e->>'actorId', x.e->>'partnerId',
                 x.e->>'subjectId', x.e->>'purpose', x.e->>'requestId', x.e->'released', x.e->'denied', x.e->'consentIds',
                 x.e->'details', l.prev, l.hash
          FROM jsonb_array_elements(events) WITH ORDINALITY AS x(e, n)
          JOIN unnest(ords, seqs, prevs, hashes) AS l(n, seq, prev, hash) ON l.n = x.n;
          UPDATE audit_head SET seq = head_seq, hash = head_hash WHERE id = 1;
        END IF;
        RETURN QUERY SELECT * FROM unnest(reqs, seqs, prevs, hashes)
                     UNION ALL SELECT s, NULL::bigint, NULL::text, NULL::text FROM unnest(stale) AS s;
      END
      $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP FUNCTION IF EXISTS audit_append_checked(jsonb, jsonb)');
  }
}
