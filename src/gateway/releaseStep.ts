import type { AuditEventInput } from '../audit/chain.js';
import { recordConsentExpiries } from '../consent/recordExpiries.js';
import { AuditUnavailableError, QueryTooComplexError, UnauthenticatedError, isConsentryError } from '../errors.js';
import { decideRequest, type RequestDecision } from '../policy/decideRequest.js';
import type { ReleaseDecision } from '../policy/releaseDecision.js';
import { planSourceAsks } from '../policy/sourceAsk.js';
import type { Services } from '../services.js';
import { denialError } from './denialErrors.js';
import { resolveOperation } from './operationFields.js';
import { planAccess } from './planAccess.js';
import { planSourceSelections } from './planSourceSelections.js';
import type { ReleaseStep } from './plugins/requestGate.js';
import type { SchemaPolicy } from './schemaPolicy.js';

export const MAX_SUBJECTS_PER_REQUEST = 1000;

/**
 * The release rule, enforced between validation and execution, after every
 * guard let the request through: plan (which categories of which subjects,
 * for what purpose) → load the facts (and, from the local store, the
 * consenting subjects' data) in one round trip → decide (pure) → commit the audit events → fetch from the
 * score source only what was released → only then let resolvers run. If the
 * audit commit fails nothing is released or fetched; if the fetch fails the
 * released fields are null with SOURCE_UNAVAILABLE.
 */
export function releaseStep(services: Services, policy: SchemaPolicy): ReleaseStep {
  return async (rc) => {
    const op = resolveOperation(rc);
    if (!op.rootFieldNames.some((n) => policy.subjectAccessFields.has(`${op.rootTypeName}.${n}`))) return;
    const { principal, requestId } = rc.contextValue;
    if (principal?.kind !== 'partner') throw new UnauthenticatedError('A partner access token is required.');

    const asks = planAccess({ schema: rc.schema, policy, ...op });
    const subjectIds = [...new Set(asks.flatMap((a) => a.subjectIds))];
    if (subjectIds.length > MAX_SUBJECTS_PER_REQUEST) {
      throw new QueryTooComplexError(`At most ${MAX_SUBJECTS_PER_REQUEST} subjects per request; this one asks for ${subjectIds.length}.`);
    }
    const facts = await services.accessSnapshots.read(principal.partnerId, subjectIds);
    if (!facts.partner) throw new UnauthenticatedError('The partner of this token no longer exists.');
    const now = services.clock();
    const decision = decideRequest(asks, {
      partner: facts.partner,
      tokenScopes: principal.scopes,
      consentsBySubject: facts.consentsBySubject,
      now,
    });
    await record(services, principal.partnerId, requestId, decision, now);
    if (decision.refusal) throw denialError(decision.refusal, asks[0]?.purpose ?? '');
    rc.contextValue.access = decision.rootFields;
    const sourceAsks = planSourceAsks(decision, planSourceSelections({ schema: rc.schema, policy, ...op }));
    rc.contextValue.released = await services.scores.fetch(principal.partnerId, requestId, sourceAsks, facts.consentingSubjects);
  };
}

/** One access event per (subject, purpose), durably committed before anything is released. */
async function record(services: Services, partnerId: string, requestId: string, decision: RequestDecision, now: Date): Promise<void> {
  const decisions = decision.bySubjectPurpose;
  const expired = [...new Set(decisions.flatMap((d) => d.expiredConsentIds))];
  if (expired.length) {
    await recordConsentExpiries(services, expired, now).catch((err: unknown) => {
      throw isConsentryError(err) ? err : new AuditUnavailableError(err);
    });
  }
  const events: AuditEventInput[] = decisions.map((d) => ({
    kind: 'access',
    at: now,
    actorType: 'partner',
    actorId: partnerId,
    partnerId,
    subjectId: d.subjectId,
    purpose: d.purpose,
    requestId,
    released: d.released,
    denied: d.denied,
    consentIds: d.consentIds,
  }));
  await services.auditLog.append(events);
  countDecisions(services, partnerId, decisions);
}

function countDecisions(services: Services, partnerId: string, decisions: readonly ReleaseDecision[]): void {
  const counts = new Map<string, number>();
  for (const d of decisions) {
    if (d.released.length) counts.set('released\u0000', (counts.get('released\u0000') ?? 0) + d.released.length);
    for (const denial of d.denied) {
      const key = `denied\u0000${denial.code}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  for (const [key, n] of counts) {
    const [outcome, code] = key.split('\u0000') as [string, string];
    services.metrics.decisions.inc({ partner: partnerId, outcome, code }, n);
  }
}
