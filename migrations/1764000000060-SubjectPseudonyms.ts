import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Audit events name subjects by a keyed pseudonym instead of their id, so an
 * erasure can cut the link without touching the hash chain (docs/audit-chain.md, section 7).
 *
 * - `subject_keys`: random per-subject key material, created by trigger when
 *   the gateway starts holding something about a subject (a subject row from a
 *   score import, a consent) and destroyed on erasure. Ids a partner merely
 *   asks about get no key: they fall back to one gateway-wide key, so probing
 *   random ids cannot make this table grow.
 * - `gateway_settings`: the last seq written before this migration (events up
 *   to it hold plain ids and stay as they are). The gateway-wide key is made
 *   by the gateway at its first start, not here: the embedded engine's
 *   prebuilt image runs the migrations once for every installation.
 * - `erased_subject_events`: events that still name an erased subject in a
 *   linkable way (plain id, gateway-wide pseudonym); hidden from default views.
 *
 * Key material is 32 bytes from two v4 UUIDs (244 random bits from the
 * server's strong random source): gen_random_uuid() is core PostgreSQL and
 * PGlite, unlike pgcrypto's gen_random_bytes().
 */
export class SubjectPseudonyms1764000000060 implements MigrationInterface {
  name = 'SubjectPseudonyms1764000000060';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION subject_key_material() RETURNS bytea LANGUAGE sql VOLATILE AS $$
        SELECT decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex')
      $$`);
    await q.query(`
      CREATE TABLE subject_keys (
        subject_id text PRIMARY KEY,
        key bytea NOT NULL DEFAULT subject_key_material(),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE FUNCTION subject_key_for_row() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- TG_ARGV[0] names the column holding the subject id (id in subjects, subject_id in consents).
        INSERT INTO subject_keys (subject_id) VALUES (to_jsonb(NEW) ->> TG_ARGV[0])
        ON CONFLICT (subject_id) DO NOTHING;
        RETURN NEW;
      END
      $$`);
    await q.query(`CREATE TRIGGER subjects_key AFTER INSERT ON subjects FOR EACH ROW EXECUTE FUNCTION subject_key_for_row('id')`);
    await q.query(`CREATE TRIGGER consents_key AFTER INSERT ON consents FOR EACH ROW EXECUTE FUNCTION subject_key_for_row('subject_id')`);
    await q.query(`INSERT INTO subject_keys (subject_id) SELECT id FROM subjects UNION SELECT subject_id FROM consents ON CONFLICT DO NOTHING`);
    await q.query(
      `INSERT INTO gateway_settings (name, value, updated_at)
       SELECT 'plain_subject_ids_through_seq', seq::text, now() FROM audit_head WHERE id = 1`,
    );
    await q.query(`
      CREATE TABLE erased_subject_events (
        seq bigint PRIMARY KEY,
        erased_at timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS erased_subject_events');
    await q.query(`DELETE FROM gateway_settings WHERE name IN ('subject_pseudonym_key', 'plain_subject_ids_through_seq')`);
    await q.query('DROP TRIGGER IF EXISTS consents_key ON consents');
    await q.query('DROP TRIGGER IF EXISTS subjects_key ON subjects');
    await q.query('DROP FUNCTION IF EXISTS subject_key_for_row()');
    await q.query('DROP TABLE IF EXISTS subject_keys');
    await q.query('DROP FUNCTION IF EXISTS subject_key_material()');
  }
}
