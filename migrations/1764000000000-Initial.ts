import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The whole initial schema. Plain PostgreSQL that PGlite runs unchanged.
 * Never edit after it has landed: add a new migration instead.
 */
export class Initial1764000000000 implements MigrationInterface {
  name = 'Initial1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE categories (
        name text PRIMARY KEY,
        title text NOT NULL,
        reveals text NOT NULL,
        title_zh text NOT NULL,
        reveals_zh text NOT NULL,
        sort_order int NOT NULL DEFAULT 0
      )`);
    await q.query(`
      CREATE TABLE purposes (
        name text PRIMARY KEY,
        title text NOT NULL,
        title_zh text NOT NULL
      )`);
    await q.query(`
      CREATE TABLE partners (
        id text PRIMARY KEY,
        name text NOT NULL,
        industry text NOT NULL,
        contact text,
        scopes jsonb NOT NULL DEFAULT '[]',
        purposes jsonb NOT NULL DEFAULT '[]',
        jwks jsonb NOT NULL,
        redirect_uris jsonb NOT NULL DEFAULT '[]',
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE subjects (
        id text PRIMARY KEY,
        identity_verified boolean NOT NULL DEFAULT false,
        identity_level text,
        identity_verified_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE score_summaries (
        subject_id text PRIMARY KEY REFERENCES subjects(id) ON DELETE CASCADE,
        value int NOT NULL CHECK (value BETWEEN 350 AND 950),
        band text NOT NULL,
        dimensions jsonb NOT NULL,
        factors jsonb NOT NULL DEFAULT '[]',
        history jsonb NOT NULL DEFAULT '[]',
        as_of timestamptz NOT NULL,
        model text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Consents name subjects by external id without a foreign key on purpose:
    // a consent may be recorded (CLI, paper forms) before the score store knows the subject.
    await q.query(`
      CREATE TABLE consents (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        subject_id text NOT NULL,
        partner_id text NOT NULL REFERENCES partners(id),
        purpose text NOT NULL REFERENCES purposes(name),
        categories jsonb NOT NULL,
        granted_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        superseded_by uuid,
        expiry_recorded_at timestamptz,
        channel text NOT NULL,
        request_id uuid,
        policy_version text NOT NULL,
        receipt text NOT NULL
      )`);
    await q.query(`CREATE INDEX consents_active_idx ON consents (partner_id, subject_id, purpose) WHERE revoked_at IS NULL`);
    await q.query(`CREATE INDEX consents_subject_idx ON consents (subject_id, granted_at DESC)`);
    await q.query(`
      CREATE TABLE consent_requests (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        partner_id text NOT NULL REFERENCES partners(id),
        subject_id text NOT NULL,
        purpose text NOT NULL REFERENCES purposes(name),
        categories jsonb NOT NULL,
        duration_days int NOT NULL CHECK (duration_days BETWEEN 1 AND 365),
        redirect_uri text,
        status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'APPROVED', 'DECLINED', 'EXPIRED')),
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        decided_at timestamptz,
        consent_id uuid REFERENCES consents(id)
      )`);
    await q.query(`CREATE INDEX consent_requests_subject_idx ON consent_requests (subject_id, created_at DESC)`);
    await q.query(`
      CREATE TABLE audit_events (
        seq bigint PRIMARY KEY,
        at timestamptz NOT NULL,
        kind text NOT NULL,
        actor_type text NOT NULL,
        actor_id text,
        partner_id text,
        subject_id text,
        purpose text,
        request_id text,
        released jsonb NOT NULL DEFAULT '[]',
        denied jsonb NOT NULL DEFAULT '[]',
        consent_ids jsonb NOT NULL DEFAULT '[]',
        details jsonb NOT NULL DEFAULT '{}',
        prev_hash text NOT NULL,
        hash text NOT NULL UNIQUE
      )`);
    await q.query(`CREATE INDEX audit_events_partner_idx ON audit_events (partner_id, seq)`);
    await q.query(`CREATE INDEX audit_events_subject_idx ON audit_events (subject_id, seq)`);
    await q.query(`CREATE INDEX audit_events_at_idx ON audit_events (at)`);
    // One row: the chain head. Appenders lock it, so replicas extend one chain.
    await q.query(`
      CREATE TABLE audit_head (
        id int PRIMARY KEY CHECK (id = 1),
        seq bigint NOT NULL,
        hash text NOT NULL
      )`);
    await q.query(
      `INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000')`,
    );
    await q.query(`
      CREATE TABLE audit_checkpoints (
        seq bigint PRIMARY KEY,
        head_hash text NOT NULL,
        at timestamptz NOT NULL,
        kid text NOT NULL,
        jws text NOT NULL
      )`);
    await q.query(`
      CREATE TABLE signing_keys (
        kid text PRIMARY KEY,
        alg text NOT NULL,
        private_jwk jsonb NOT NULL,
        public_jwk jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        retired_at timestamptz
      )`);
    await q.query(`
      CREATE TABLE used_assertions (
        client_id text NOT NULL,
        jti text NOT NULL,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (client_id, jti)
      )`);
    await q.query(`CREATE INDEX used_assertions_expiry_idx ON used_assertions (expires_at)`);

    await seedRegistries(q);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of [
      'used_assertions',
      'signing_keys',
      'audit_checkpoints',
      'audit_head',
      'audit_events',
      'consent_requests',
      'consents',
      'score_summaries',
      'subjects',
      'partners',
      'purposes',
      'categories',
    ]) {
      await q.query(`DROP TABLE IF EXISTS ${t}`);
    }
  }
}

async function seedRegistries(q: QueryRunner): Promise<void> {
  const categories: [string, string, string, string, string][] = [
    ['score.threshold', 'Score threshold', 'Only whether your score is at least a number the partner names, not the score itself.', '分数门槛', '仅显示您的分数是否达到合作方指定的数值，不显示分数本身。'],
    ['score.band', 'Score band', 'The band your score falls in (Poor, Fair, Good, Very good, Excellent), not the exact score.', '分数等级', '您的分数所在等级（较差、中等、良好、优秀、极好），不显示具体分数。'],
    ['score.value', 'Exact score', 'Your exact score (350 to 950).', '具体分数', '您的具体分数（350 至 950）。'],
    ['score.dimensions', 'Score dimensions', 'Your five sub-scores: credit history, behaviour preferences, fulfilment capacity, identity traits and social connections (0 to 100 each).', '分数维度', '您的五项分项得分：信用历史、行为偏好、履约能力、身份特质和人脉关系（各 0 至 100）。'],
    ['score.factors', 'Reason codes', 'The main reasons behind your score, most important first.', '原因代码', '影响您分数的主要原因，按重要性排序。'],
    ['score.history', 'Score history', 'Your score month by month, for up to the months the partner asks.', '分数历史', '您每月的分数，最多为合作方请求的月数。'],
    ['identity.verified', 'Identity verification', 'Whether your identity has been verified, at which level and when. No personal details.', '身份验证', '您的身份是否已验证、验证级别及时间。不含个人信息。'],
  ];
  for (const [i, c] of categories.entries()) {
    await q.query(
      `INSERT INTO categories (name, title, reveals, title_zh, reveals_zh, sort_order) VALUES ($1, $2, $3, $4, $5, $6)`,
      [...c, i],
    );
  }
  const purposes: [string, string, string][] = [
    ['deposit_waiver', 'Waiving a deposit', '免押金'],
    ['post_pay', 'Paying after the service', '先享后付'],
    ['credit_underwriting', 'Deciding on credit', '信贷审批'],
    ['tenant_screening', 'Screening a tenant', '租客审核'],
    ['identity_verification', 'Verifying identity', '身份验证'],
    ['fraud_prevention', 'Preventing fraud', '防范欺诈'],
    ['insurance_underwriting', 'Deciding on insurance', '保险核保'],
  ];
  for (const p of purposes) {
    await q.query(`INSERT INTO purposes (name, title, title_zh) VALUES ($1, $2, $3)`, p);
  }
}
