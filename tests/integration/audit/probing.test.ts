import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assessProbing, ProbingMonitor, probingMonitorFor } from '../../../src/audit/probing.js';
import { STORE_KINDS } from '../../fixtures/stores.js';
import { createTestPartner, graphql, partnerToken, startGateway, type TestGateway, type TestPartner } from '../../fixtures/gateway.js';

describe('assessProbing', () => {
  const t = { windowMinutes: 60, maxDenialRate: 0.5, maxDistinctNonConsenting: 10, minAccessEvents: 20 };
  it.each([
    [{ accessEvents: 1, deniedEvents: 1, distinctNonConsenting: 1 }, []],
    [{ accessEvents: 20, deniedEvents: 10, distinctNonConsenting: 10 }, []],
    [{ accessEvents: 20, deniedEvents: 11, distinctNonConsenting: 3 }, ['DENIAL_RATE']],
    [{ accessEvents: 100, deniedEvents: 11, distinctNonConsenting: 11 }, ['NON_CONSENTING_SUBJECTS']],
    [{ accessEvents: 30, deniedEvents: 30, distinctNonConsenting: 30 }, ['DENIAL_RATE', 'NON_CONSENTING_SUBJECTS']],
  ])('%j → %j', (stats, reasons) => {
    expect(assessProbing({ partnerId: 'p', ...stats }, t)).toMatchObject({ reasons, flagged: reasons.length > 0 });
  });
});

describe.each(STORE_KINDS)('probing detection on %s', (kind) => {
  let gw: TestGateway;
  let prober: TestPartner;
  let honest: TestPartner;

  beforeAll(async () => {
    gw = await startGateway(kind, {
      env: { CONSENTRY_PROBING_THROTTLE: 'true', CONSENTRY_PROBING_MAX_NON_CONSENTING: '5', CONSENTRY_PROBING_MAX_DENIAL_RATE: '0.5' },
    });
    prober = await createTestPartner(gw.services);
    honest = await createTestPartner(gw.services);
  });
  afterAll(() => gw?.close());

  it('flags a partner asking about many non-consenting subjects once per window, reports and throttles it', async () => {
    const token = await partnerToken(gw.url, prober);
    // Eight strangers, one request each: every decision is CONSENT_REQUIRED.
    for (let i = 0; i < 8; i++) {
      const res = await graphql(gw.url, token, `{ subject(id: "stranger-${i}", purpose: "deposit_waiver") { score { band } } }`);
      expect(res.body.errors?.[0].extensions.code).toBe('CONSENT_REQUIRED');
    }
    const honestToken = await partnerToken(gw.url, honest);
    await graphql(gw.url, honestToken, `{ subject(id: "stranger-0", purpose: "deposit_waiver") { score { band } } }`);

    const monitor = probingMonitorFor(gw.services);
    expect(await monitor.evaluate()).toEqual([{ partnerId: prober.id, at: expect.any(String), reasons: ['NON_CONSENTING_SUBJECTS'] }]);
    expect(await monitor.evaluate()).toEqual([]);
    const flags = await gw.services.db.query<{ partner_id: string; details: Record<string, unknown> }>(
      `SELECT partner_id, details FROM audit_events WHERE kind = 'partner.flagged'`,
    );
    expect(flags).toEqual([
      {
        partner_id: prober.id,
        details: expect.objectContaining({ reasons: ['NON_CONSENTING_SUBJECTS'], accessEvents: 8, deniedEvents: 8, distinctNonConsenting: 8, denialRatePerMille: 1000 }),
      },
    ]);

    const officer = await gw.services.tokens.issueRoleToken('officer-1', ['compliance'], 900);
    const report = await graphql(gw.url, officer, `query($id: ID!) { partnerReport(partnerId: $id) { probing { flagged reasons distinctNonConsenting lastFlaggedAt } } }`, { id: prober.id });
    expect(report.body.data.partnerReport.probing).toEqual({ flagged: true, reasons: ['NON_CONSENTING_SUBJECTS'], distinctNonConsenting: 8, lastFlaggedAt: expect.any(String) });

    const refused = await graphql(gw.url, token, `{ subject(id: "stranger-9", purpose: "deposit_waiver") { score { band } } }`);
    expect(refused.status).toBe(429);
    expect(refused.body.errors?.[0].extensions.code).toBe('RATE_LIMITED');
    const allowed = await graphql(gw.url, honestToken, `{ subject(id: "stranger-9", purpose: "deposit_waiver") { score { band } } }`);
    expect(allowed.status).toBe(200);
  });

  it('writes one flag when two replicas evaluate at the same moment', async () => {
    const prober2 = await createTestPartner(gw.services);
    const token = await partnerToken(gw.url, prober2);
    for (let i = 0; i < 8; i++) await graphql(gw.url, token, `{ subject(id: "visitor-${i}", purpose: "deposit_waiver") { score { band } } }`);
    // A second monitor over the same database stands in for another replica.
    const replicas = [probingMonitorFor(gw.services), new ProbingMonitor(gw.services)];
    const raised = (await Promise.all(replicas.map((m) => m.evaluate()))).flat().filter((f) => f.partnerId === prober2.id);
    expect(raised).toHaveLength(1);
    const flags = await gw.services.db.query(`SELECT seq FROM audit_events WHERE kind = 'partner.flagged' AND partner_id = $1`, [prober2.id]);
    expect(flags).toHaveLength(1);
    expect(replicas.every((m) => m.isFlagged(prober2.id))).toBe(true);
  });

  it('shares evaluations among replicas: a replica triggered soon after another evaluated adopts its flags', async () => {
    const prober3 = await createTestPartner(gw.services);
    const token = await partnerToken(gw.url, prober3);
    for (let i = 0; i < 8; i++) await graphql(gw.url, token, `{ subject(id: "caller-${i}", purpose: "deposit_waiver") { score { band } } }`);
    const lastScan = async () =>
      (await gw.services.db.query<{ at: string }>(`SELECT evaluated_at::text AS at FROM probing_evaluations WHERE id = 1`))[0]?.at;

    const scanning = new ProbingMonitor(gw.services);
    expect((await scanning.evaluate()).map((f) => f.partnerId)).toEqual([prober3.id]);
    const firstScan = await lastScan();
    expect(firstScan).toBeDefined();
    // A replica never takes its own scan for another's: alone, it scans at every trigger as before.
    expect(await scanning.evaluate({ reuseWithinSeconds: 60 })).toEqual([]);
    const scannedAt = await lastScan();
    expect(scannedAt).not.toBe(firstScan);

    // Another replica, started after that scan: within the reuse period it takes the flags, scanning nothing.
    const joining = new ProbingMonitor(gw.services);
    expect(joining.isFlagged(prober3.id)).toBe(false);
    expect(await joining.evaluate({ reuseWithinSeconds: 60 })).toEqual([]);
    expect(joining.isFlagged(prober3.id)).toBe(true);
    expect(await lastScan()).toBe(scannedAt);

    // Past it, the replica scans again itself, and raises nothing twice.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await joining.evaluate({ reuseWithinSeconds: 1 })).toEqual([]);
    expect(await lastScan()).not.toBe(scannedAt);
    expect(joining.isFlagged(prober3.id)).toBe(true);
    const flags = await gw.services.db.query(`SELECT seq FROM audit_events WHERE kind = 'partner.flagged' AND partner_id = $1`, [prober3.id]);
    expect(flags).toHaveLength(1);
  });
});
