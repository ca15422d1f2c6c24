import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditCheckpointer } from '../../../src/audit/auditCheckpointer.js';
import { AuditLog } from '../../../src/audit/auditLog.js';
import { checkpointsInRange, writeCheckpoint } from '../../../src/audit/checkpoints.js';
import { SigningKeys } from '../../../src/auth/signingKeys.js';
import { systemClock, type Clock } from '../../../src/clock.js';
import { createLogger } from '../../../src/logger.js';
import { openTestStore, STORE_KINDS, type TestStore } from '../../fixtures/stores.js';
import { sampleEvents } from './auditGateway.js';

const EVERY = 10;
const schedule = { every: EVERY, intervalSeconds: 300 };

describe.each(STORE_KINDS)('audit checkpoints by chain position on %s', (kind) => {
  let store: TestStore;
  let keys: SigningKeys;
  beforeEach(async () => {
    store = await openTestStore(kind);
    keys = new SigningKeys(store.db, systemClock);
  });
  afterEach(() => store?.cleanup());

  /** One gateway process: its own audit log and checkpointer on the shared database. */
  function replica(clock: Clock = systemClock) {
    const auditLog = new AuditLog(store.db);
    const checkpointer = new AuditCheckpointer({ db: store.db, keys, clock, issuer: 'http://localhost:4000', auditLog, logger: createLogger('silent') }, schedule);
    checkpointer.start();
    return { auditLog, checkpointer };
  }

  /** Events stamped now, so no interval is overdue unless a test says so. */
  const events = (n: number) => sampleEvents(n, new Date());

  /** Checkpoint seqs, each checked against the stored event it vouches for. */
  async function checkpointSeqs(): Promise<number[]> {
    const checkpoints = await checkpointsInRange(store.db);
    const hashes = await store.db.query<{ seq: string; hash: string }>('SELECT seq::text AS seq, hash FROM audit_events');
    const hashAt = new Map(hashes.map((r) => [r.seq, r.hash]));
    for (const c of checkpoints) expect(c.headHash).toBe(hashAt.get(c.seq));
    return checkpoints.map((c) => Number(c.seq));
  }

  it('anchors every N chain positions although no process lives to append N events', async () => {
    for (let restart = 0; restart < 6; restart++) {
      const { auditLog, checkpointer } = replica();
      for (let i = 0; i < 3; i++) await auditLog.append(events(2));
      await checkpointer.stop();
    }
    expect(await checkpointSeqs()).toEqual([10, 20, 30]);
  });

  it('writes one checkpoint per position when two replicas append at once', async () => {
    const replicas = [replica(), replica()];
    const groupSizes = [1, 3, 2, 3, 1, 2, 3, 3, 1, 2];
    await Promise.all(
      replicas.map(async ({ auditLog }, r) => {
        for (let round = 0; round < 25; round++) {
          // Back to back, the hardest case for a decision made after the commit.
          await auditLog.append(events(groupSizes[(round + r) % groupSizes.length]!));
        }
      }),
    );
    await Promise.all(replicas.map((r) => r.checkpointer.stop()));
    const [{ seq: head }] = await store.db.query<{ seq: string }>('SELECT seq::text AS seq FROM audit_head');
    const seqs = await checkpointSeqs();
    // Whichever replica's decision runs first (the owner of position "last + N", or a later commit taking over
    // when a burst appended N more positions before the owner's decision ran), the checkpoint is signed at that
    // position: one per N positions, never two for one stretch, and none skipped.
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => (i + 1) * EVERY));
    expect(seqs.length).toBeGreaterThanOrEqual(5);
    expect(Number(head) - seqs.at(-1)!).toBeLessThan(EVERY);
  });

  it('at start-up, signs the head when the last checkpoint is older than the interval and events followed it', async () => {
    const hourAgo = new Date(Date.now() - 3600_000);
    const log = new AuditLog(store.db);
    await log.append(events(3));
    await writeCheckpoint({ db: store.db, keys, clock: () => hourAgo, issuer: 'http://localhost:4000' });
    await log.append(events(2));

    const { checkpointer } = replica();
    await checkpointer.settled();
    expect(await checkpointSeqs()).toEqual([3, 5]);
    await checkpointer.stop();

    // Nothing appended since, or a recent checkpoint: a start-up writes nothing.
    const again = replica();
    await again.checkpointer.stop();
    await log.append(events(1));
    const recent = replica();
    await recent.checkpointer.stop();
    expect(await checkpointSeqs()).toEqual([3, 5]);
  });

  it('answers the append and logs the failure when a checkpoint cannot be signed', async () => {
    const warnings: unknown[] = [];
    const logger = { ...createLogger('silent'), warn: (...args: unknown[]) => warnings.push(args) } as unknown as ReturnType<typeof createLogger>;
    const brokenKeys = { signingKey: () => Promise.reject(new Error('key store down')) } as unknown as SigningKeys;
    const auditLog = new AuditLog(store.db);
    const checkpointer = new AuditCheckpointer({ db: store.db, keys: brokenKeys, clock: systemClock, issuer: 'http://localhost:4000', auditLog, logger }, schedule);
    checkpointer.start();
    const appended = await auditLog.append(events(EVERY));
    expect(appended.map((e) => e.seq)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
    await checkpointer.stop();
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings.every((w) => (w as unknown[])[1] === 'writing an audit checkpoint failed')).toBe(true);
    expect(await checkpointSeqs()).toEqual([]);
  });
});
