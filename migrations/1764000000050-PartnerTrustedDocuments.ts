import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Trusted documents: the operations a partner registered (the persisted
 * documents manifest its GraphQL Code Generator build writes), keyed by the
 * SHA-256 of their text, and whether the partner may send nothing else.
 * Existing partners keep sending any document (`false`).
 *
 * Gateways keep each partner's standing (its mode, the registration of a
 * document's hash) per process, like the other decision facts, so the checked
 * audit append (AccessAppendCheck1764000000070) also checks it.
 */
export class PartnerTrustedDocuments1764000000050 implements MigrationInterface {
  name = 'PartnerTrustedDocuments1764000000050';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE partners ADD COLUMN trusted_documents_only boolean NOT NULL DEFAULT false');
    await q.query(`
      CREATE TABLE partner_trusted_documents (
        partner_id text NOT NULL REFERENCES partners(id),
        hash text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
        document text NOT NULL,
        operation_names jsonb NOT NULL DEFAULT '[]',
        registered_at timestamptz NOT NULL,
        PRIMARY KEY (partner_id, hash)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS partner_trusted_documents');
    await q.query('ALTER TABLE partners DROP COLUMN IF EXISTS trusted_documents_only');
  }
}
