import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The last access token issued to each partner: operators asking "is this
 * partner still calling us?" need it, and nothing else records issuance (the
 * used-assertion table is pruned and also holds refused requests). One row
 * per partner, overwritten, so it costs one small write per token.
 */
export class PartnerTokenIssuance1764000000002 implements MigrationInterface {
  name = 'PartnerTokenIssuance1764000000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE partner_token_issuance (
        partner_id text PRIMARY KEY REFERENCES partners(id),
        jti text NOT NULL,
        scopes jsonb NOT NULL,
        issued_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS partner_token_issuance');
  }
}
