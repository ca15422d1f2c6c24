import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../src/audit/auditLog.js';
import type { AuditEventInput } from '../../../src/audit/chain.js';
import { windowStats, type PartnerWindowStats } from '../../../src/audit/probing.js';
import { COUNT_MARGIN_MS, tallyWindow, type CountedThrough, type WindowTally } from '../../../src/audit/probingCounts.js';
import { openTestStore, STORE_KINDS, type TestStore } from '../../fixtures/stores.js';

const MINUTE = 60_000;
const T0 = Date.parse('2026-03-01T08:00:17.250Z');

/** A deterministic stream of decisions: three partners, repeated subjects, several kinds of denial. */
function decisions(from: number, to: number, count: number, seed: number): AuditEventInput[] {
  let x = seed;
  const next = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: count }, () => {
    const roll = next();
    const denied =
      roll < 0.3 ? [{ category: 'score.band', code: 'CONSENT_REQUIRED' }] : roll < 0.4 ? [{ category: 'score.band', code: 'INSUFFICIENT_SCOPE' }] : [];
    return {
      kind: 'access',
      at: new Date(from + Math.floor(next() * (to - from))),
      actorType: 'partner',
      partnerId: `p${Math.floor(next() * 3)}`,
      subjectId: next() < 0.05 ? null : `s${Math.floor(next() * 40)}`,
      released: denied.length ? [] : ['score.band'],
      denied,
    } as AuditEventInput;
  });
}

const byPartner = (stats: PartnerWindowStats[]) => [...stats].sort((a, b) => a.partnerId.localeCompare(b.partnerId));

describe.each(STORE_KINDS)('probing counts on %s', (kind) => {
  let store: TestStore;
  let log: AuditLog;

  beforeAll(async () => {
    store = await openTestStore(kind);
    log = new AuditLog(store.db);
  });
  afterAll(() => store?.cleanup());

  const tally = (windowStart: number, previous?: CountedThrough) =>
    store.db.transaction((tx) => tallyWindow(tx, new Date(windowStart), previous));
  /** What a scan of every event in the window finds: the counts must agree with it exactly. */
  const scanned = (windowStart: number, now: number) => store.db.transaction((tx) => windowStats(tx, new Date(windowStart), new Date(now)));
  const countedMinutes = async () =>
    (await store.db.query<{ minute: Date | string }>('SELECT DISTINCT minute FROM probing_minutes ORDER BY minute')).map((r) => new Date(r.minute).getTime());

  it('keeps exact window statistics from the events appended since the last evaluation', async () => {
    const window = 30 * MINUTE;
    let previous: WindowTally | undefined;
    let now = T0;
    for (let step = 0; step < 14; step++) {
      const later = now + 7 * MINUTE + 13_457;
      // Decisions since the last step, and a few recorded late (a replica's clock behind, a slow append).
      await log.append([...decisions(now, later, 150, step + 1), ...decisions(later - 2 * MINUTE, later, 10, step + 100)]);
      now = later;
      const current = await tally(now - window, previous?.counted);
      expect(current.rebuilt).toBe(step === 0);
      expect(byPartner(current.stats)).toEqual(byPartner(await scanned(now - window, now)));
      expect(current.stats.some((s) => s.deniedEvents > 0 && s.distinctNonConsenting > 0)).toBe(true);
      // What has left the window (and its margin) is no longer kept.
      expect(Math.min(...(await countedMinutes()))).toBeGreaterThanOrEqual(now - window - COUNT_MARGIN_MS - MINUTE);
      previous = current;
    }

    // A longer window than the counts hold, or a clock gone back past them: rebuilt from the log, still exact.
    const longer = await tally(now - 90 * MINUTE, previous!.counted);
    expect(longer.rebuilt).toBe(true);
    expect(byPartner(longer.stats)).toEqual(byPartner(await scanned(now - 90 * MINUTE, now)));
    const shorter = await tally(now - 10 * MINUTE, longer.counted);
    expect(shorter.rebuilt).toBe(false);
    expect(byPartner(shorter.stats)).toEqual(byPartner(await scanned(now - 10 * MINUTE, now)));
  });

  it('starts the window exactly, not at a whole minute, and counts nothing twice', async () => {
    const now = T0 + 200 * MINUTE;
    // 17.25 s past a minute: the first event below falls in the window's partial first minute, the others in whole ones.
    const windowStart = now - 20 * MINUTE;
    const edge = (at: number, code: string | null): AuditEventInput => ({
      kind: 'access',
      at: new Date(at),
      actorType: 'partner',
      partnerId: 'p-edge',
      subjectId: `edge-${at}`,
      released: code ? [] : ['score.band'],
      denied: code ? [{ category: 'score.band', code }] : [],
    });
    await log.append([edge(windowStart - 1, 'CONSENT_REQUIRED'), edge(windowStart, 'CONSENT_REQUIRED'), edge(windowStart + 60_000, null)]);
    const first = await tally(windowStart);
    const [stats] = first.stats.filter((s) => s.partnerId === 'p-edge');
    expect(stats).toEqual({ partnerId: 'p-edge', accessEvents: 2, deniedEvents: 1, distinctNonConsenting: 1 });

    // Evaluating again with nothing new changes nothing; a new event is counted once.
    const again = await tally(windowStart, first.counted);
    expect(again.rebuilt).toBe(false);
    expect(again.stats.filter((s) => s.partnerId === 'p-edge')).toEqual([stats]);
    await log.append([edge(windowStart + 90_000, 'CONSENT_REQUIRED')]);
    const third = await tally(windowStart, again.counted);
    expect(third.stats.filter((s) => s.partnerId === 'p-edge')).toEqual([{ partnerId: 'p-edge', accessEvents: 3, deniedEvents: 2, distinctNonConsenting: 2 }]);
  });
});
