import type { ApolloServerPlugin } from '@apollo/server';
import type { AuditEventInput } from '../../audit/chain.js';
import { AuditUnavailableError, PartnerSuspendedError, QueryTooComplexError, UnauthenticatedError, isConsentryError } from '../../errors.js';
import type { DecisionContext } from '../../policy/facts.js';
import { decideRelease, type ReleaseDecision } from '../../policy/releaseDecision.js';
import type { Services } from '../../services.js';
import type { SubjectRecord } from '../../store/scoreSummaries.js';
import { recordConsentExpiries } from '../../consent/recordExpiries.js';
import type { RootFieldDecisions } from '../accessDecisions.js';
import type { GatewayContext } from '../context.js';
import { resolveOperation } from '../operationFields.js';
import { planAccess, type RootFieldAsk } from '../planAccess.js';
import type { SchemaPolicy } from '../schemaPolicy.js';
import { toGraphQLError } from '../toGraphQLError.js';

export const MAX_SUBJECTS_PER_REQUEST = 1000;

/**
 * The release rule, enforced between validation and execution:
 * plan (which categories of which subjects, for what purpose) → load the facts
 * and the consenting subjects' data in one round trip → decide (pure) → commit
 * the audit events → only then let resolvers run. If the audit commit fails
 * nothing is released.
 */
export function enforceReleasePlugin(services: Services, policy: SchemaPolicy): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(rc) {
          const op = resolveOperation(rc);
          if (!op.rootFieldNames.some((n) => policy.subjectAccessFields.has(`${op.rootTypeName}.${n}`))) return;
          const { principal, requestId } = rc.contextValue;
          if (principal?.kind !== 'partner') throw toGraphQLError(new UnauthenticatedError('A partner access token is required.'));

          const asks = planAccess({ schema: rc.schema, policy, ...op });
          const subjectIds = [...new Set(asks.flatMap((a) => a.subjectIds))];
          if (subjectIds.length > MAX_SUBJECTS_PER_REQUEST) {
            throw toGraphQLError(
              new QueryTooComplexError(`At most ${MAX_SUBJECTS_PER_REQUEST} subjects per request; this one asks for ${subjectIds.length}.`),
            );
          }
          try {
            const { access, subjectRecords } = await decideAndAudit(services, principal, requestId, asks, subjectIds);
            rc.contextValue.access = access;
            rc.contextValue.subjectRecords = subjectRecords;
          } catch (err) {
            // Typed errors (store or audit unavailable, suspended partner) keep their code;
            // anything else is an internal error, masked at the edge. Either way nothing is released.
            if (isConsentryError(err)) throw toGraphQLError(err);
            throw err;
          }
        },
      };
    },
  };
}

async function decideAndAudit(
  services: Services,
  principal: { partnerId: string; scopes: ReadonlySet<string> },
  requestId: string,
  asks: RootFieldAsk[],
  subjectIds: string[],
): Promise<{ access: Map<string, RootFieldDecisions>; subjectRecords: ReadonlyMap<string, SubjectRecord> }> {
  const facts = await services.accessSnapshots.read(principal.partnerId, subjectIds);
  if (!facts.partner) throw new UnauthenticatedError('The partner of this token no longer exists.');
  const now = services.clock();
  const ctx: DecisionContext = {
    partner: facts.partner,
    tokenScopes: principal.scopes,
    consentsBySubject: facts.consentsBySubject,
    now,
  };

  const access = new Map<string, RootFieldDecisions>();
  // One audit event per (subject, purpose) of the request, however many root fields repeat it.
  const perSubjectPurpose = new Map<string, ReleaseDecision>();
  for (const ask of asks) {
    const bySubject = new Map<string, ReleaseDecision>();
    for (const subjectId of ask.subjectIds) {
      const decision = decideRelease({ subjectId, purpose: ask.purpose, categories: ask.categories }, ctx);
      bySubject.set(subjectId, decision);
      const key = `${subjectId}\u0000${ask.purpose}`;
      const seen = perSubjectPurpose.get(key);
      perSubjectPurpose.set(key, seen ? mergeDecisions(seen, decision) : decision);
    }
    const purposeApproved = facts.partner.approvedPurposes.includes(ask.purpose);
    access.set(ask.responseKey, {
      purpose: ask.purpose,
      refusedWith: purposeApproved ? undefined : 'PURPOSE_NOT_ALLOWED',
      bySubject,
    });
  }

  const decisions = [...perSubjectPurpose.values()];
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
    actorId: principal.partnerId,
    partnerId: principal.partnerId,
    subjectId: d.subjectId,
    purpose: d.purpose,
    requestId,
    released: d.released,
    denied: d.denied,
    consentIds: d.consentIds,
  }));
  await services.auditLog.append(events);
  countDecisions(services, principal.partnerId, decisions);

  if (facts.partner.status !== 'active') throw new PartnerSuspendedError('This partner is suspended.');
  return { access, subjectRecords: facts.consentingSubjects };
}

function mergeDecisions(a: ReleaseDecision, b: ReleaseDecision): ReleaseDecision {
  const byCategory = new Map([...a.byCategory, ...b.byCategory]);
  const released = [...byCategory.values()].filter((d) => d.released).map((d) => d.category).sort();
  const denied = [...byCategory.values()]
    .flatMap((d) => (d.released ? [] : [{ category: d.category, code: d.code }]))
    .sort((x, y) => x.category.localeCompare(y.category));
  const consentIds = [...new Set([...a.consentIds, ...b.consentIds])].sort();
  return { ...a, released, denied, consentIds, byCategory };
}

function countDecisions(services: Services, partnerId: string, decisions: ReleaseDecision[]): void {
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
