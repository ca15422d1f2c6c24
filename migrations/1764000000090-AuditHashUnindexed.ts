import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `audit_events.hash` loses its UNIQUE constraint, and with it the index
 * behind it. Nothing looks events up by hash, and the constraint guards
 * nothing the chain does not: an event's hash covers its seq, which is the
 * primary key, so two stored events can share a hash only through a SHA-256
 * collision, and any edit, deletion, reordering or truncation is found by
 * verification (docs/audit-chain.md), never by this index.
 *
 * What it cost: the keys are uniformly random, so every append inserted into a
 * random leaf of the largest index on the table (about 120 bytes per event,
 * more than the other four indexes together), a random page to read and to
 * write in full to the WAL after each checkpoint. Measured on PostgreSQL with
 * four writers appending groups of eight events: 11-21 % more append
 * statements per second without it, and 674 bytes of WAL per event instead of
 * 865-1,181. The gap grows with the table, since a random index outgrows the
 * cache long before the others, whose keys arrive in order per partner, per
 * subject or in time.
 */
export class AuditHashUnindexed1764000000090 implements MigrationInterface {
  name = 'AuditHashUnindexed1764000000090';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE audit_events DROP CONSTRAINT IF EXISTS audit_events_hash_key');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE audit_events ADD CONSTRAINT audit_events_hash_key UNIQUE (hash)');
  }
}
