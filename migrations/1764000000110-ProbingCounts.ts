import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Running counts for the probing detector (src/audit/probingCounts.ts), so an
 * evaluation reads the access events appended since the last one instead of
 * every event in its window: at 1,500 decisions a second a 60-minute window
 * holds over 5 million, scanned every few seconds under load.
 *
 * - probing_minutes: access and denied decisions per partner and minute (the
 *   minute of the event's `at`), summed over the window's whole minutes;
 * - probing_strangers: per partner, each subject asked about without consent
 *   and when last, so the distinct count over any window inside the counts is
 *   exact;
 * - probing_evaluations.counted_through_seq / counted_since: the counts hold
 *   every access event up to that seq whose `at` is at or after that time.
 *
 * All three are written only by an evaluation, under the detector's advisory
 * lock, in the transaction that saves the evaluation. They are derived data:
 * dropping them costs one rebuild from the log at the next evaluation.
 */
export class ProbingCounts1764000000110 implements MigrationInterface {
  name = 'ProbingCounts1764000000110';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE probing_minutes (
        partner_id text NOT NULL,
        minute timestamptz NOT NULL,
        access_events int NOT NULL,
        denied_events int NOT NULL,
        PRIMARY KEY (partner_id, minute)
      )`);
    await q.query(`
      CREATE TABLE probing_strangers (
        partner_id text NOT NULL,
        subject_id text NOT NULL,
        last_at timestamptz NOT NULL,
        PRIMARY KEY (partner_id, subject_id)
      )`);
    await q.query(`CREATE INDEX probing_strangers_last_at_idx ON probing_strangers (last_at)`);
    await q.query(`ALTER TABLE probing_evaluations ADD COLUMN counted_through_seq bigint, ADD COLUMN counted_since timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE probing_evaluations DROP COLUMN counted_through_seq, DROP COLUMN counted_since`);
    await q.query('DROP TABLE probing_strangers');
    await q.query('DROP TABLE probing_minutes');
  }
}
