import { describe, expect, it } from 'vitest';
import type { AuditLog } from '../../../src/audit/auditLog.js';
import type { AuditEvent } from '../../../src/audit/chain.js';
import { ProbingMonitor } from '../../../src/audit/probing.js';
import { createLogger } from '../../../src/logger.js';
import type { Database } from '../../../src/store/database.js';

/** A monitor over a store that only counts the window scans it is asked for. */
function monitorWith(minSecondsBetweenBursts: number) {
  let scans = 0;
  let listener: (events: readonly AuditEvent[]) => void = () => undefined;
  const sql = {
    query: async <T>(text: string): Promise<T[]> => {
      if (text.includes('GROUP BY partner_id')) scans++;
      // The chain's head, as an empty log reports it.
      if (text.includes('max(seq)')) return [{ head: '0' }] as T[];
      return [];
    },
  };
  const db = { ...sql, transaction: <T>(work: (tx: typeof sql) => Promise<T>) => work(sql) } as unknown as Database;
  const auditLog = {
    onAppended: (l: typeof listener) => (listener = l),
    transaction: <T>(work: (tx: typeof sql, record: () => Promise<AuditEvent[]>) => Promise<T>) => work(sql, async () => []),
  } as unknown as AuditLog;
  const monitor = new ProbingMonitor(
    {
      db,
      auditLog,
      clock: () => new Date(),
      logger: createLogger('silent'),
      config: { probing: { windowMinutes: 60, maxDenialRate: 0.5, maxDistinctNonConsenting: 50, throttle: false } },
    },
    { everySeconds: 3600, everyAccessEvents: 3, minSecondsBetweenBursts },
  );
  const decide = (n: number) => listener(Array.from({ length: n }, () => ({ kind: 'access' }) as AuditEvent));
  return { monitor, decide, scans: () => scans };
}

const settle = () => new Promise((r) => setTimeout(r, 20));

describe('probing evaluation schedule', () => {
  it('evaluates on start and again after a burst of access decisions', async () => {
    const m = monitorWith(0);
    m.monitor.start();
    await settle();
    expect(m.scans()).toBe(1);
    m.decide(2);
    await settle();
    expect(m.scans()).toBe(1);
    m.decide(1);
    await settle();
    expect(m.scans()).toBe(2);
    await m.monitor.stop();
  });

  it('does not let bursts start scans sooner than the pause after the last one', async () => {
    const m = monitorWith(3600);
    m.monitor.start();
    await settle();
    for (let i = 0; i < 5; i++) m.decide(3);
    await settle();
    expect(m.scans()).toBe(1);
    await m.monitor.stop();
  });
});
