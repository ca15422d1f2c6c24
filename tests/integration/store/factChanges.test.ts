import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog, StaleFactsError } from '../../../src/audit/auditLog.js';
import type { AuditEventInput } from '../../../src/audit/chain.js';
import { factsCheck, loadAccessSnapshots, type FactsCheck } from '../../../src/store/accessSnapshot.js';
import { pruneFactChanges } from '../../../src/store/factChanges.js';
import { insertPartner } from '../../../src/store/partners.js';
import { openTestStore, STORE_KINDS, type TestStore } from '../../fixtures/stores.js';

const PARTNER = 'p_fact_changes';
const OTHER = 'p_fact_other';
const WRONG_CONSENT = '00000000-0000-4000-8000-000000000000';

const access = (subjectId: string): AuditEventInput => ({
  kind: 'access',
  at: new Date(),
  actorType: 'partner',
  actorId: PARTNER,
  partnerId: PARTNER,
  subjectId,
  purpose: 'credit_underwriting',
  released: ['score.band'],
});

/**
 * The checked append's fast path (migration FactChanges1764000000080): facts
 * with no change noted since their basis are not compared one by one. Shown
 * by sending facts that are wrong on purpose: they pass only while the fast
 * path holds, and are caught as soon as a change to them is noted, however it
 * was written, or when the notes that would tell have been pruned.
 */
describe.each(STORE_KINDS)('decision facts changes on %s', (kind) => {
  let store: TestStore;
  let log: AuditLog;

  beforeAll(async () => {
    store = await openTestStore(kind);
    log = new AuditLog(store.db);
    for (const id of [PARTNER, OTHER]) {
      await insertPartner(
        store.db,
        { id, name: id, industry: 'lending', scopes: ['score.band'], purposes: ['credit_underwriting'], jwks: { keys: [] } },
        new Date(),
      );
    }
    for (const [subject, partner] of [['fc-1', PARTNER], ['fc-2', PARTNER], ['fc-1', OTHER]] as const) await grant(subject, partner);
  });
  afterAll(() => store?.cleanup());

  async function grant(subjectId: string, partnerId: string): Promise<string> {
    const [row] = await store.db.query<{ id: string }>(
      `INSERT INTO consents (subject_id, partner_id, purpose, categories, granted_at, expires_at, channel, policy_version, receipt)
       VALUES ($1, $2, 'credit_underwriting', '["score.band"]', now(), now() + interval '1 day', 'web', 'test', 'test') RETURNING id`,
      [subjectId, partnerId],
    );
    return row!.id;
  }

  /**
   * Waits until every change noted so far is behind a new snapshot's xmin. A basis is that xmin, and it is
   * cluster-wide: a transaction open in another database of the same server (another test file's) holds it
   * back, and the changes this file made since then rightly send the append to the one-by-one comparison.
   */
  async function changesSettled(): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const [row] = await store.db.query<{ settled: boolean }>(
        `SELECT pg_snapshot_xmin(pg_current_snapshot()) > COALESCE((SELECT xid FROM fact_changes ORDER BY xid DESC LIMIT 1), '0'::xid8) AS settled`,
      );
      if (row!.settled) return;
      if (Date.now() > deadline) throw new Error('a transaction elsewhere on the server stayed open for 30 s');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /**
   * The check for facts read now, with the subject's consents replaced by one that does not exist. Read once
   * the earlier changes are behind their basis, so only changes made after it can send them to the comparison.
   */
  async function wrongFacts(subjectId: string): Promise<FactsCheck> {
    await changesSettled();
    const [snapshot] = await loadAccessSnapshots(store.db, [{ partnerId: PARTNER, subjectIds: [subjectId] }], false);
    const check = factsCheck(snapshot!, [subjectId], new Set());
    return { ...check, subjects: check.subjects.map((s) => ({ ...s, consents: [WRONG_CONSENT] })) };
  }

  async function readBack(subjectId: string): Promise<FactsCheck> {
    const [snapshot] = await loadAccessSnapshots(store.db, [{ partnerId: PARTNER, subjectIds: [subjectId] }], false);
    return factsCheck(snapshot!, [subjectId], new Set());
  }

  it('places events on facts unchanged since their basis without comparing them, and returns a basis no older', async () => {
    const check = await wrongFacts('fc-1');
    const appended = await log.appendDecisions([access('fc-1')], check);
    expect(appended.events).toHaveLength(1);
    expect(appended.basis! >= BigInt(check.basis!)).toBe(true);
  });

  it('is not disturbed by changes to other subjects or to other partners’ consents', async () => {
    const check = await wrongFacts('fc-1');
    await grant('fc-2', PARTNER);
    await grant('fc-1', OTHER);
    await store.db.query(`UPDATE score_summaries SET value = value WHERE subject_id = 'fc-2'`);
    expect((await log.appendDecisions([access('fc-1')], check)).events).toHaveLength(1);
  });

  it('compares one by one when too many changes to sort through were noted since the basis, even unrelated ones', async () => {
    const check = await wrongFacts('fc-1');
    await store.db.query(`INSERT INTO subjects (id, created_at) SELECT 'fc-bulk-' || n, now() FROM generate_series(1, 201) AS n`);
    await expect(log.appendDecisions([access('fc-1')], check)).rejects.toBeInstanceOf(StaleFactsError);
    expect((await log.appendDecisions([access('fc-1')], await wrongFacts('fc-1'))).events).toHaveLength(1);
  });

  it.each([
    ['a consent granted', () => grant('fc-1', PARTNER)],
    ['a consent revoked by a statement of its own', () => store.db.query(`UPDATE consents SET revoked_at = now() WHERE subject_id = 'fc-1' AND partner_id = $1 AND revoked_at IS NULL`, [PARTNER])],
    ['the subject’s record written', () => store.db.query(`INSERT INTO subjects (id, identity_verified, created_at) VALUES ('fc-1', true, now()) ON CONFLICT (id) DO UPDATE SET identity_verified = NOT subjects.identity_verified`)],
    ['the subject’s key destroyed', () => store.db.query(`DELETE FROM subject_keys WHERE subject_id = 'fc-1'`)],
  ])('compares the facts one by one once a change is noted after their basis: %s', async (_, change) => {
    const check = await wrongFacts('fc-1');
    await change();
    await expect(log.appendDecisions([access('fc-1')], check)).rejects.toBeInstanceOf(StaleFactsError);
    // Read again, the facts are right and are placed.
    expect((await log.appendDecisions([access('fc-1')], await readBack('fc-1'))).events).toHaveLength(1);
  });

  it('compares one by one when the notes since the basis may have been pruned', async () => {
    const check = await wrongFacts('fc-2');
    await grant('fc-9', OTHER);
    expect(await pruneFactChanges(store.db, 0)).toBeGreaterThan(0);
    expect(await store.db.query('SELECT 1 FROM fact_changes')).toEqual([]);
    await expect(log.appendDecisions([access('fc-2')], check)).rejects.toBeInstanceOf(StaleFactsError);
    expect((await log.appendDecisions([access('fc-2')], await readBack('fc-2'))).events).toHaveLength(1);
  });

  it('takes no fast path for facts without a basis', async () => {
    const check = { ...(await wrongFacts('fc-2')), basis: null };
    await expect(log.appendDecisions([access('fc-2')], check)).rejects.toBeInstanceOf(StaleFactsError);
  });
});
