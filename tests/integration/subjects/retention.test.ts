import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/clock.js';
import { consentDepsOf } from '../../../src/consent/consentDeps.js';
import { requestConsent } from '../../../src/consent/consentRequests.js';
import { declineConsentRequest } from '../../../src/consent/declineConsentRequest.js';
import { applyRetention } from '../../../src/subjects/retention.js';
import { seedSubject } from '../../fixtures/consentScenario.js';
import { createTestPartner, startGateway, type TestGateway } from '../../fixtures/gateway.js';
import { STORE_KINDS } from '../../fixtures/stores.js';
import { consentTo } from '../../fixtures/subjects.js';

const DAY = 86_400_000;
const POLICY = { scoreDays: 30, requestDays: 30 };

describe.each(STORE_KINDS)('retention on %s', (kind) => {
  let gw: TestGateway;
  let offsetMs = 0;
  const clock: Clock = () => new Date(Date.now() + offsetMs);
  afterEach(async () => {
    offsetMs = 0;
    await gw?.close();
  });

  it('deletes stale score data and lapsed unanswered requests, and nothing else; audited without ids', async () => {
    gw = await startGateway(kind, { clock });
    const { services } = gw;
    const deps = consentDepsOf(services);
    const partner = await createTestPartner(services);
    const ask = (subjectId: string) =>
      requestConsent(deps, partner.id, { subjectId, purpose: 'deposit_waiver', categories: ['score.band'], durationDays: 30 });

    // Day 0.
    for (const id of ['stale', 'consented', 'lapsed-long', 'lapsed-recently', 'asked']) await seedSubject(services, id);
    await consentTo(services, 'consented', partner.id, 'deposit_waiver', ['score.band'], 365);
    await consentTo(services, 'lapsed-long', partner.id, 'deposit_waiver', ['score.band'], 1);
    await consentTo(services, 'lapsed-recently', partner.id, 'deposit_waiver', ['score.band'], 35);
    const oldUnanswered = await ask('nobody-1');
    const oldDeclined = await ask('nobody-2');
    await declineConsentRequest(deps, { requestId: oldDeclined.id, subjectId: 'nobody-2', channel: 'api' });
    // Day 20: a request that lapses on day 27.
    offsetMs = 20 * DAY;
    const recentUnanswered = await ask('nobody-3');
    // Day 40: a request still open for "asked".
    offsetMs = 40 * DAY;
    const open = await ask('asked');

    const before = await services.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events');
    const [first, second] = await Promise.all([applyRetention(services, POLICY), applyRetention(services, POLICY)]);
    expect(first.scoreRecordsDeleted + second.scoreRecordsDeleted).toBe(2);
    expect(first.requestsDeleted + second.requestsDeleted).toBe(1);

    expect((await services.db.query<{ id: string }>('SELECT id FROM subjects ORDER BY id')).map((r) => r.id)).toEqual(['asked', 'consented', 'lapsed-recently']);
    expect((await services.db.query<{ subject_id: string }>('SELECT subject_id FROM score_summaries ORDER BY subject_id')).map((r) => r.subject_id)).toEqual([
      'asked',
      'consented',
      'lapsed-recently',
    ]);
    expect((await services.db.query<{ id: string }>('SELECT id FROM consent_requests ORDER BY created_at')).map((r) => r.id)).toEqual([
      oldDeclined.id,
      recentUnanswered.id,
      open.id,
    ]);
    expect(oldUnanswered.id).not.toBe(recentUnanswered.id);
    // Consents stay: they are the evidence of what was shared.
    expect((await services.db.query<{ n: number }>('SELECT count(*)::int AS n FROM consents'))[0]!.n).toBe(3);

    const events = await services.db.query<{ kind: string; actor_type: string; actor_id: string; subject_id: string | null; details: unknown }>(
      'SELECT kind, actor_type, actor_id, subject_id, details FROM audit_events WHERE seq > $1 ORDER BY seq',
      [before[0]!.n],
    );
    expect(events).toEqual([
      { kind: 'retention.applied', actor_type: 'system', actor_id: 'retention', subject_id: null, details: { scoreRecordsDeleted: 2, requestsDeleted: 1, scoreDays: 30, requestDays: 30 } },
    ]);

    // Nothing more is due: a further run deletes nothing and records nothing.
    expect(await applyRetention(services, POLICY)).toEqual({ ran: true, scoreRecordsDeleted: 0, requestsDeleted: 0 });
    expect((await services.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events'))[0]!.n).toBe(before[0]!.n + 1);
  });
});
