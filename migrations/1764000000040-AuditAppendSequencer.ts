import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Appends are sequenced inside the database. `audit_append(events)` locks the
 * chain head row, gives each event the next seq and the previous hash,
 * computes its hash (SHA-256 over the same canonical encoding as before: the
 * gateway sends each event's canonical JSON split around the two members it
 * cannot know, `prevHash` and `seq`), inserts the events and moves the head,
 * in one statement. Concurrent appenders, from any number of replicas, wait in
 * the row lock's queue instead of failing a compare-and-swap and retrying.
 */
export class AuditAppendSequencer1764000000040 implements MigrationInterface {
  name = 'AuditAppendSequencer1764000000040';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION audit_append(events jsonb) RETURNS TABLE (seq bigint, prev_hash text, hash text)
      LANGUAGE plpgsql AS $$
      #variable_conflict use_column
      DECLARE
        head_seq bigint;
        head_hash text;
        e jsonb;
        seqs bigint[] := '{}';
        prevs text[] := '{}';
        hashes text[] := '{}';
        next_hash text;
      BEGIN
        SELECT h.seq, h.hash INTO head_seq, head_hash FROM audit_head h WHERE h.id = 1 FOR UPDATE;
        FOR e IN SELECT value FROM jsonb_array_elements(events) LOOP
          head_seq := head_seq + 1;
          next_hash := encode(sha256(convert_to(
            (e->>'before') || to_json(head_hash)::text || (e->>'between') || to_json(head_seq::text)::text || (e->>'after'),
            'UTF8')), 'hex');
          seqs := seqs || head_seq;
          prevs := prevs || head_hash;
          hashes := hashes || next_hash;
          head_hash := next_hash;
        END LOOP;
        INSERT INTO audit_events (seq, at, kind, actor_type, actor_id, partner_id, subject_id, purpose, request_id,
                                  released, denied, consent_ids, details, prev_hash, hash)
        SELECT l.seq, (x.e->>'at')::timestamptz, x.e->>'kind', x.e->>'actorType', x.e->>'actorId', x.e->>'partnerId',
               x.e->>'subjectId', x.e->>'purpose', x.e->>'requestId', x.e->'released', x.e->'denied', x.e->'consentIds',
               x.e->'details', l.prev, l.hash
        FROM jsonb_array_elements(events) WITH ORDINALITY AS x(e, n)
        JOIN unnest(seqs, prevs, hashes) WITH ORDINALITY AS l(seq, prev, hash, n) ON l.n = x.n;
        UPDATE audit_head SET seq = head_seq, hash = head_hash WHERE id = 1;
        RETURN QUERY SELECT * FROM unnest(seqs, prevs, hashes);
      END
      $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP FUNCTION IF EXISTS audit_append(jsonb)');
  }
}
