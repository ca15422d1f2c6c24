import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Changes since the oldest basis of one append statement that are matched one by one; more, and the facts are compared instead. */
const RECENT_LIMIT = 200;

/** Tables whose rows are per-subject decision facts, and the column naming the subject (consents also name a partner). */
const SUBJECT_FACT_TABLES = [
  { table: 'consents', subject: 'subject_id', partner: 'partner_id' },
  { table: 'subjects', subject: 'id', partner: null },
  { table: 'score_summaries', subject: 'subject_id', partner: null },
  { table: 'subject_keys', subject: 'subject_id', partner: null },
] as const;

/**
 * A fast path for the checked access append (audit_append_checked, see
 * AccessAppendCheck1764000000070), which compared every asked subject's facts
 * with the database: four index probes per subject, most of PostgreSQL's work
 * on a batch request in steady state.
 *
 * `fact_changes` notes, by trigger, every change to a per-subject decision
 * fact (consents, subject records, score summaries, pseudonym keys): the
 * writing transaction's id, the subject and, for consents, the partner. It is
 * insert-only, so writers never wait on each other for it. A gateway keeps
 * with each fact the xmin of the snapshot it was read in (its basis). Every
 * transaction with a smaller id had ended when that snapshot was taken, so
 * its changes are in the fact. Hence, if no change row of the request's
 * partner and subjects with an id at or above the facts' basis is visible
 * once the chain head is locked, the facts are what the database holds, and
 * the per-subject comparison can be skipped; otherwise it runs as before.
 * Either way the facts are then current as of the check's own snapshot, whose
 * xmin is returned as their new basis. The partner's state and its
 * trusted-documents standing are still compared on every request (one probe
 * each, not one per subject).
 *
 * Old rows are pruned (see pruneFactChanges); `fact_changes_floor` holds the
 * smallest id whose changes are all still kept, and a basis below it takes
 * the per-subject comparison.
 */
export class FactChanges1764000000080 implements MigrationInterface {
  name = 'FactChanges1764000000080';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE fact_changes (
        xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
        -- Null: every partner's facts about the subject (its record, its key).
        partner_id text,
        -- Null: every subject (a table was truncated).
        subject_id text,
        at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX fact_changes_xid ON fact_changes (xid)');
    await q.query(`CREATE TABLE fact_changes_floor (id int PRIMARY KEY CHECK (id = 1), xid xid8 NOT NULL)`);
    // Facts read before this migration have no basis, so nothing is lost by starting the floor here.
    await q.query(`INSERT INTO fact_changes_floor (id, xid) VALUES (1, pg_current_xact_id())`);
    await q.query(`
      CREATE FUNCTION note_fact_changes() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- TG_ARGV: the subject column, then the partner column or '' when the table has none.
        IF TG_OP = 'TRUNCATE' THEN
          INSERT INTO fact_changes (partner_id, subject_id) VALUES (NULL, NULL);
        ELSIF TG_OP IN ('INSERT', 'UPDATE') THEN
          EXECUTE format('INSERT INTO fact_changes (partner_id, subject_id) SELECT %s, %I FROM changed_new',
                         CASE WHEN TG_ARGV[1] = '' THEN 'NULL::text' ELSE quote_ident(TG_ARGV[1]) END, TG_ARGV[0]);
        END IF;
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
          EXECUTE format('INSERT INTO fact_changes (partner_id, subject_id) SELECT %s, %I FROM changed_old',
                         CASE WHEN TG_ARGV[1] = '' THEN 'NULL::text' ELSE quote_ident(TG_ARGV[1]) END, TG_ARGV[0]);
        END IF;
        RETURN NULL;
      END
      $$`);
    for (const { table, subject, partner } of SUBJECT_FACT_TABLES) {
      const args = `'${subject}', '${partner ?? ''}'`;
      await q.query(`CREATE TRIGGER ${table}_facts_insert AFTER INSERT ON ${table} REFERENCING NEW TABLE AS changed_new
                     FOR EACH STATEMENT EXECUTE FUNCTION note_fact_changes(${args})`);
      await q.query(`CREATE TRIGGER ${table}_facts_update AFTER UPDATE ON ${table} REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
                     FOR EACH STATEMENT EXECUTE FUNCTION note_fact_changes(${args})`);
      await q.query(`CREATE TRIGGER ${table}_facts_delete AFTER DELETE ON ${table} REFERENCING OLD TABLE AS changed_old
                     FOR EACH STATEMENT EXECUTE FUNCTION note_fact_changes(${args})`);
      await q.query(`CREATE TRIGGER ${table}_facts_truncate AFTER TRUNCATE ON ${table}
                     FOR EACH STATEMENT EXECUTE FUNCTION note_fact_changes(${args})`);
    }

    await q.query('DROP FUNCTION audit_append_checked(jsonb, jsonb)');
    await q.query(`
      CREATE FUNCTION audit_append_checked(events jsonb, checks jsonb)
        RETURNS TABLE (req int, seq bigint, prev_hash text, hash text, basis text)
      LANGUAGE plpgsql
      -- Its statements take plpgsql variables as parameters; left to choose, PostgreSQL kept planning them
      -- afresh for every call, which was about half of the function's cost on a small append.
      SET plan_cache_mode = force_generic_plan
      AS $$
      #variable_conflict use_column
      DECLARE
        stale int[];
        placed jsonb;
        confirmed text;
        floor_xid xid8;
        latest xid8;
        oldest xid8;
        recent_xid xid8[];
        recent_partner text[];
        recent_subject text[];
      BEGIN
        PERFORM 1 FROM audit_head h WHERE h.id = 1 FOR UPDATE;
        -- Each statement below takes a new snapshot, which sees every change committed before the lock was granted;
        -- this one's xmin is at most theirs, so the facts confirmed below are current as of it.
        confirmed := pg_snapshot_xmin(pg_current_snapshot())::text;
        -- The floor; the newest change (one probe at the end of the index: in steady state older than every
        -- basis); the oldest basis of this statement's requests.
        SELECT (SELECT fl.xid FROM fact_changes_floor fl WHERE fl.id = 1),
               (SELECT f.xid FROM fact_changes f ORDER BY f.xid DESC LIMIT 1),
               (SELECT min((c->>'basis')::xid8) FROM jsonb_array_elements(checks) c)
        INTO floor_xid, latest, oldest;
        -- Else the changes since the oldest basis, read in index order; past RECENT_LIMIT of them, compare one by one.
        IF latest >= oldest THEN
          SELECT array_agg(f.xid), array_agg(f.partner_id), array_agg(f.subject_id) INTO recent_xid, recent_partner, recent_subject
          FROM (SELECT * FROM fact_changes f WHERE f.xid >= oldest ORDER BY f.xid LIMIT ${RECENT_LIMIT + 1}) f;
          IF cardinality(recent_xid) > ${RECENT_LIMIT} THEN
            oldest := NULL;
          END IF;
        END IF;
        SELECT COALESCE(array_agg(c.req), '{}') INTO stale
        FROM jsonb_to_recordset(checks) AS c(req int, basis text, partner_id text, status text, scopes jsonb, purposes jsonb, subjects jsonb,
                                             "trustedDocumentsOnly" boolean, "documentHash" text)
        WHERE NOT EXISTS (
                SELECT 1 FROM partners p
                WHERE p.id = c.partner_id AND p.status = c.status AND p.scopes = c.scopes AND p.purposes = c.purposes
                  AND (c."trustedDocumentsOnly" IS NULL OR p.trusted_documents_only = c."trustedDocumentsOnly"))
           -- Let through as a registered document of a trusted-documents-only partner: still registered.
           OR (c."trustedDocumentsOnly" AND NOT EXISTS (
                SELECT 1 FROM partner_trusted_documents d WHERE d.partner_id = c.partner_id AND d.hash = c."documentHash"))
           -- The subjects' facts: unchanged since their basis (one probe), or else compared one by one.
           OR (NOT (c.basis IS NOT NULL AND c.basis::xid8 >= floor_xid
                    AND (latest IS NULL OR latest < c.basis::xid8
                         OR (oldest IS NOT NULL AND NOT EXISTS (
                              SELECT 1 FROM unnest(recent_xid, recent_partner, recent_subject) AS f(xid, partner_id, subject_id)
                              WHERE f.xid >= c.basis::xid8
                                AND (f.partner_id IS NULL OR f.partner_id = c.partner_id)
                                AND (f.subject_id IS NULL OR EXISTS (
                                      SELECT 1 FROM jsonb_array_elements(c.subjects) x WHERE x->>'id' = f.subject_id))))))
               AND EXISTS (
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
                   OR s."keyStamp" IS DISTINCT FROM (SELECT k.xmin::text FROM subject_keys k WHERE k.subject_id = s.id)));
        -- Usually every request's facts held: the events go to the sequencer as they came.
        IF cardinality(stale) = 0 THEN
          placed := events;
        ELSE
          SELECT COALESCE(jsonb_agg(x.e ORDER BY x.n), '[]') INTO placed
          FROM jsonb_array_elements(events) WITH ORDINALITY AS x(e, n)
          WHERE NOT (x.e->>'req')::int = ANY (stale);
        END IF;
        -- The sequencer places them (the lock is already this transaction's) in their order: the placed rows, by
        -- seq, are the events of the requests not named stale, in order. Then one row per stale request.
        RETURN QUERY
          SELECT NULL::int, a.seq, a.prev_hash, a.hash, confirmed FROM audit_append(placed) AS a
          UNION ALL SELECT s, NULL::bigint, NULL::text, NULL::text, confirmed FROM unnest(stale) AS s;
      END
      $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP FUNCTION IF EXISTS audit_append_checked(jsonb, jsonb)');
    for (const { table } of SUBJECT_FACT_TABLES) {
      for (const op of ['insert', 'update', 'delete', 'truncate']) await q.query(`DROP TRIGGER IF EXISTS ${table}_facts_${op} ON ${table}`);
    }
    await q.query('DROP FUNCTION IF EXISTS note_fact_changes()');
    await q.query('DROP TABLE IF EXISTS fact_changes_floor');
    await q.query('DROP TABLE IF EXISTS fact_changes');
    // The previous version of the checked append.
    const { AccessAppendCheck1764000000070 } = await import('./1764000000070-AccessAppendCheck.js');
    await new AccessAppendCheck1764000000070().up(q);
  }
}
