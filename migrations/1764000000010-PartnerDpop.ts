import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * DPoP (RFC 9449). Each partner says whether its tokens must be
 * sender-constrained (`required`) or are bound only when it sends a proof
 * (`optional`, the default: existing partners keep working). Proof `jti`s
 * are remembered here, keyed by a hash of key thumbprint and jti, until the
 * proof could no longer be accepted anyway: one table every replica sees, so
 * a proof replayed against another replica is refused too.
 */
export class PartnerDpop1764000000010 implements MigrationInterface {
  name = 'PartnerDpop1764000000010';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE partners ADD COLUMN dpop text NOT NULL DEFAULT 'optional' CHECK (dpop IN ('optional', 'required'))`);
    await q.query(`
      CREATE TABLE used_dpop_proofs (
        proof_key text PRIMARY KEY,
        expires_at timestamptz NOT NULL
      )`);
    await q.query('CREATE INDEX used_dpop_proofs_expires_at ON used_dpop_proofs (expires_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS used_dpop_proofs');
    await q.query('ALTER TABLE partners DROP COLUMN IF EXISTS dpop');
  }
}
