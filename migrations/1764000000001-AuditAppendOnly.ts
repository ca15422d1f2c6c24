import type { MigrationInterface, QueryRunner } from 'typeorm';

const PROTECTED_TABLES = ['audit_events', 'audit_checkpoints'];

/**
 * Makes the audit tables append-only for everyone who cannot disable triggers:
 * UPDATE, DELETE and TRUNCATE raise an exception. This stops mistakes and the
 * application itself; a superuser can still bypass it, which is why the hash
 * chain and signed checkpoints, not this trigger, are the tamper evidence.
 */
export class AuditAppendOnly1764000000001 implements MigrationInterface {
  name = 'AuditAppendOnly1764000000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION audit_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'the audit log is append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME
          USING ERRCODE = 'insufficient_privilege';
      END
      $$`);
    for (const table of PROTECTED_TABLES) {
      await q.query(`
        CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table}
        FOR EACH ROW EXECUTE FUNCTION audit_reject_change()`);
      await q.query(`
        CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table}
        FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change()`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of PROTECTED_TABLES) {
      await q.query(`DROP TRIGGER IF EXISTS ${table}_no_truncate ON ${table}`);
      await q.query(`DROP TRIGGER IF EXISTS ${table}_append_only ON ${table}`);
    }
    await q.query(`DROP FUNCTION IF EXISTS audit_reject_change()`);
  }
}
