import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Facts the serving gateway records for other processes on the same store.
 * First and only one so far: the issuer it serves under, so a CLI command
 * started without the server's environment stamps tokens, receipts and
 * exports with the same issuer instead of guessing one from its own PORT.
 */
export class GatewaySettings1764000000011 implements MigrationInterface {
  name = 'GatewaySettings1764000000011';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE gateway_settings (
        name text PRIMARY KEY,
        value text NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS gateway_settings');
  }
}
