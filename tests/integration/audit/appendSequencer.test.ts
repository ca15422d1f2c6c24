import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../src/audit/auditLog.js';
import { eventHash, type AuditEventInput } from '../../../src/audit/chain.js';
import { SigningKeys } from '../../../src/auth/signingKeys.js';
import { loadConfig } from '../../../src/config.js';
import { verifyStoredChain } from '../../../src/audit/verifyStoredChain.js';
import { migrate, openDatabase, type Database } from '../../../src/store/database.js';
import { openTestStore, revertThrough, STORE_KINDS, type TestStore } from '../../fixtures/stores.js';

const access = (i: number, writer: string): AuditEventInput => ({
  kind: 'access',
  at: new Date(Date.UTC(2026, 10, 1, 0, 0, 0, i)),
  actorType: 'partner',
  actorId: `p-${writer}`,
  partnerId: `p-${writer}`,
  subjectId: `s-${i}`,
  purpose: 'deposit_waiver',
  requestId: `${writer}-${i}`,
  released: ['score.band'],
  denied: [{ category: 'score.value', code: 'CONSENT_REQUIRED' }],
  details: { note: `naïve "quoted" ✓ ${i}`, nested: { b: 1, a: [i] } },
});

/**
 * Several writers on one chain, as replicas are: each append succeeds at the
 * first attempt (the database queues writers on the head row instead of
 * letting them race), and the chain the database built verifies.
 */
describe.each(STORE_KINDS)('the audit sequencer on %s', (kind) => {
  let store: TestStore;
  let second: Database;

  beforeAll(async () => {
    store = await openTestStore(kind);
    // A second process's connection pool on PostgreSQL; the embedded engine has one owner, so there writers share it.
    second = kind === 'postgres' ? await openDatabase(loadConfig(store.env).database, { migrate: false }) : store.db;
  });
  afterAll(async () => {
    if (second !== store.db) await second.close();
    await store.cleanup();
  });

  it('hashes exactly what a verifier hashes', async () => {
    const log = new AuditLog(store.db);
    const [event] = await log.append([access(0, 'h')]);
    const { hash, ...unhashed } = event!;
    expect(hash).toBe(eventHash(unhashed));
  });

  it('takes concurrent appends from two writers and consent transactions, each at the first attempt, as one chain', async () => {
    const writers = [new AuditLog(store.db), new AuditLog(second)];
    const transactional = new AuditLog(second);
    const appends = writers.flatMap((log, w) => Array.from({ length: 120 }, (_, i) => log.append([access(i, `w${w}`)])));
    const transactions = Array.from({ length: 20 }, (_, i) =>
      transactional.transaction(async (tx, record) => {
        await tx.query('SELECT 1');
        return record([access(i, 'tx'), access(i + 1000, 'tx')]);
      }),
    );
    const results = await Promise.allSettled([...appends, ...transactions]);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    for (const log of writers) expect(log.counts.attempts).toBe(log.counts.committed);

    const verified = await verifyStoredChain({ db: store.db, keys: new SigningKeys(store.db, () => new Date()) });
    expect(verified.problem).toBeUndefined();
    const [{ n }] = await store.db.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_events WHERE kind = 'access'");
    expect(n).toBe(1 + 240 + 40);
  });

  it('places every event once when writers that share the chain let their groups wait for each other (a group linger)', async () => {
    const writers = [new AuditLog(store.db, 5), new AuditLog(second, 5)];
    // Waves of concurrent requests on both writers, so that each sees the other's groups between its own.
    for (let wave = 0; wave < 30; wave++) {
      const results = await Promise.all(writers.flatMap((log, w) => Array.from({ length: 4 }, (_, i) => log.append([access(wave * 4 + i, `l${w}`)]))));
      expect(results.every((events) => events.length === 1)).toBe(true);
    }
    for (const log of writers) expect(log.counts.attempts).toBe(log.counts.committed);
    const verified = await verifyStoredChain({ db: store.db, keys: new SigningKeys(store.db, () => new Date()) });
    expect(verified.problem).toBeUndefined();
    const [{ n, distinct }] = await store.db.query<{ n: number; distinct: number }>(
      "SELECT count(*)::int AS n, count(DISTINCT request_id)::int AS distinct FROM audit_events WHERE actor_id IN ('p-l0', 'p-l1')",
    );
    expect({ n, distinct }).toEqual({ n: 240, distinct: 240 });
  });

  it('keeps a chain written while hashes were indexed verifiable once the index is dropped, and goes on extending it', async () => {
    const hashIndexes = () =>
      store.db.query("SELECT indexname FROM pg_indexes WHERE tablename = 'audit_events' AND indexdef LIKE '%(hash)%'");
    const reverted = await revertThrough(store.db, 'AuditHashUnindexed1764000000090');
    expect(await hashIndexes()).toHaveLength(1);
    const log = new AuditLog(store.db);
    await log.append([access(0, 'before-drop'), access(1, 'before-drop')]);

    expect(await migrate(store.db)).toEqual(reverted);
    expect(await hashIndexes()).toEqual([]);
    const [after] = await log.append([access(2, 'after-drop')]);
    const { hash, ...unhashed } = after!;
    expect(hash).toBe(eventHash(unhashed));
    const verified = await verifyStoredChain({ db: store.db, keys: new SigningKeys(store.db, () => new Date()) });
    expect(verified.problem).toBeUndefined();
  });
});
