import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The probing detector's last evaluation, shared by every replica
 * (src/audit/probing.ts). An evaluation scans the whole window of access
 * events; each replica used to run its own every 5 s under load, so N replicas
 * scanned the same rows N times over, and PostgreSQL's CPU per partner request
 * grew with the number of replicas (0.23 ms with one, 0.44 ms with two and
 * 0.92 ms with four in the replicas benchmark). Now a replica whose trigger
 * finds a scan by any replica recent enough adopts that scan's flags instead.
 *
 * One row, written in the evaluation's own transaction, under the detector's
 * advisory lock: when it scanned (the database's clock, the same for every
 * replica), which process scanned (a replica never adopts its own scan, so
 * one replica alone scans as often as before), and the partner.flagged events
 * inside its window as it left them, so the flags always agree with the log.
 */
export class ProbingEvaluations1764000000100 implements MigrationInterface {
  name = 'ProbingEvaluations1764000000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE probing_evaluations (
        id int PRIMARY KEY CHECK (id = 1),
        evaluated_at timestamptz NOT NULL,
        evaluated_by text NOT NULL,
        flags jsonb NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE probing_evaluations');
  }
}
