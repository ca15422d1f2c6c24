import { StaleFactsError } from '../audit/auditLog.js';
import type { AuditEventInput } from '../audit/chain.js';
import { recordConsentExpiries } from '../consent/recordExpiries.js';
import { AuditUnavailableError, QueryTooComplexError, UnauthenticatedError, isConsentryError } from '../errors.js';
import { documentRefusal, type TrustedDocumentLookup } from '../partners/trustedDocuments.js';
import { decideRequest, type RequestDecision } from '../policy/decideRequest.js';
import type { ReleaseDecision } from '../policy/releaseDecision.js';
import { planSourceAsks } from '../policy/sourceAsk.js';
import type { Services } from '../services.js';
import { factsCheck, type AccessSnapshot, type FactsCheck } from '../store/accessSnapshot.js';
import { SpanKind, type Context, type RequestTelemetry } from '../tracing.js';
import { denialError } from './denialErrors.js';
import { resolveOperation } from './operationFields.js';
import { memoByOperation } from './operationMemo.js';
import { planAccess } from './planAccess.js';
import { planSourceSelections } from './planSourceSelections.js';
import type { ReleaseStep } from './plugins/requestGate.js';
import type { SchemaPolicy } from './schemaPolicy.js';
import { requestDocumentHash } from './trustedDocumentStep.js';

export const MAX_SUBJECTS_PER_REQUEST = 1000;
/** Reads and decisions per request when its facts keep changing before they can be recorded (each later one from a fresh read). */
const MAX_DECISION_ATTEMPTS = 4;

/**
 * The release rule, enforced between validation and execution, after every
 * guard let the request through: plan (which categories of which subjects,
 * for what purpose) → load the facts (and, from the local store, the
 * consenting subjects' data) in one round trip → refuse a document the
 * partner may not run (trusted documents only) → decide (pure) → commit the audit events → fetch from the
 * score source only what was released → only then let resolvers run. If the
 * audit commit fails nothing is released or fetched; if the fetch fails the
 * released fields are null with SOURCE_UNAVAILABLE.
 */
export function releaseStep(services: Services, policy: SchemaPolicy, documents?: TrustedDocumentLookup): ReleaseStep {
  const { tracing } = services;
  return async (rc) => {
    const op = resolveOperation(rc);
    if (!op.rootFieldNames.some((n) => policy.subjectAccessFields.has(`${op.rootTypeName}.${n}`))) return;
    const { principal, requestId, telemetry } = rc.contextValue;
    if (principal?.kind !== 'partner') throw new UnauthenticatedError('A partner access token is required.');
    const trace = telemetry.traceContext;

    const { asks, subjectIds } = await tracing.inSpan(trace, 'consentry.plan', {}, async (span) => {
      const asks = memoByOperation(op.operation, op.variables, 'access', () => planAccess({ schema: rc.schema, policy, ...op }));
      const subjectIds = [...new Set(asks.flatMap((a) => a.subjectIds))];
      span.setAttributes({ 'consentry.asks': asks.length, 'consentry.subjects': subjectIds.length });
      return { asks, subjectIds };
    });
    if (subjectIds.length > MAX_SUBJECTS_PER_REQUEST) {
      throw new QueryTooComplexError(`At most ${MAX_SUBJECTS_PER_REQUEST} subjects per request; this one asks for ${subjectIds.length}.`);
    }
    // Decide from the facts at hand (usually the process's cache); the audit append checks they are still
    // current, and if they moved, read them afresh and decide again.
    let facts: AccessSnapshot;
    let decision: RequestDecision;
    const documentHash = documents && requestDocumentHash(rc);
    for (let attempt = 1; ; attempt++) {
      facts = await readSnapshot(services, trace, principal.partnerId, subjectIds, attempt > 1, documentHash);
      if (!facts.partner) throw new UnauthenticatedError('The partner of this token no longer exists.');
      // Trusted documents: read with fresh facts, else kept like them; refused only on a fresh read, confirmed by the append.
      let documentCheck: { trustedDocumentsOnly: boolean; hash: string } | undefined;
      if (documents && documentHash) {
        const standing = facts.documents
          ? documents.remember(principal.partnerId, documentHash, facts.documents)
          : await documents.standing(principal.partnerId, documentHash, attempt > 1);
        const untrusted = documentRefusal(standing);
        if (untrusted) throw untrusted;
        if (standing) documentCheck = { trustedDocumentsOnly: standing.trustedDocumentsOnly, hash: documentHash };
      }
      const now = services.clock();
      decision = await tracing.inSpan(trace, 'consentry.decide', {}, async (span) => {
        const decision = decideRequest(asks, {
          partner: facts.partner!,
          tokenScopes: principal.scopes,
          consentsBySubject: facts.consentsBySubject,
          now,
        });
        // Counts and codes only: which subject got what is the audit log's to say, not a trace's.
        const d = decision.bySubjectPurpose;
        span.setAttributes({
          'consentry.decisions': d.length,
          'consentry.categories.released': d.reduce((n, x) => n + x.released.length, 0),
          'consentry.categories.denied': d.reduce((n, x) => n + x.denied.length, 0),
          'consentry.facts.cached': facts.cached,
          ...(decision.refusal ? { 'consentry.refusal': decision.refusal } : {}),
        });
        return decision;
      });
      try {
        const pseudonymOf = services.pseudonyms.forRequest(facts.subjectKeys);
        const check = (expired: ReadonlySet<string>) => factsCheck(facts, subjectIds, expired, documentCheck);
        const confirmed = await record(services, principal.partnerId, requestId, telemetry, decision, now, pseudonymOf, check);
        // Facts the append found current need no per-subject comparison next time (see FactsCheck.basis).
        if (confirmed !== null) facts.confirm?.(confirmed);
        break;
      } catch (err) {
        if (!(err instanceof StaleFactsError)) throw err;
        // Facts that keep changing under a request for this long are a store in trouble: refuse, release nothing.
        if (attempt >= MAX_DECISION_ATTEMPTS) throw new AuditUnavailableError(err);
      }
    }
    if (decision.refusal) throw denialError(decision.refusal, asks[0]?.purpose ?? '');
    rc.contextValue.access = decision.rootFields;
    const selections = memoByOperation(op.operation, op.variables, 'source', () => planSourceSelections({ schema: rc.schema, policy, ...op }));
    const sourceAsks = planSourceAsks(decision, selections);
    rc.contextValue.released = await services.scores.fetch(principal.partnerId, requestId, sourceAsks, facts.consentingSubjects);
  };
}

/** The access snapshot, timed for /metrics and traced as the store call it is. */
async function readSnapshot(
  services: Services,
  trace: Context,
  partnerId: string,
  subjectIds: string[],
  fresh: boolean,
  documentHash: string | undefined,
): Promise<AccessSnapshot> {
  if (!fresh) {
    const cached = services.accessSnapshots.cached(partnerId, subjectIds);
    if (cached) return cached;
  }
  const started = performance.now();
  try {
    return await services.tracing.inSpan(
      trace,
      'consentry.snapshot.read',
      { 'db.system.name': 'postgresql', 'db.operation.name': 'SELECT', 'consentry.subjects': subjectIds.length },
      (span) => services.accessSnapshots.read(partnerId, subjectIds, (group) => span.setAttribute('consentry.group.requests', group), documentHash),
      SpanKind.CLIENT,
    );
  } finally {
    services.metrics.snapshotReadDuration.observe((performance.now() - started) / 1000);
  }
}

/**
 * One access event per (subject, purpose), durably committed before anything
 * is released, and only if the facts the decision was made from (`check`,
 * given the consents whose expiry this records) are still current. Returns
 * the transaction id as of which the facts were found current, or null when
 * the request changed them itself (it recorded expiries) or asked for no
 * subject.
 */
async function record(
  services: Services,
  partnerId: string,
  requestId: string,
  telemetry: RequestTelemetry,
  decision: RequestDecision,
  now: Date,
  pseudonymOf: (subjectId: string) => string,
  check: (expired: ReadonlySet<string>) => FactsCheck,
): Promise<bigint | null> {
  const decisions = decision.bySubjectPurpose;
  const expired = [...new Set(decisions.flatMap((d) => d.expiredConsentIds))];
  if (expired.length) {
    await recordConsentExpiries(services, expired, now).catch((err: unknown) => {
      throw isConsentryError(err) ? err : new AuditUnavailableError(err);
    });
  }
  // The trace id joins an audit record to the operator's trace of the same request (and the partner's, when it sent one).
  const details = telemetry.traceId ? { traceId: telemetry.traceId } : undefined;
  const events: AuditEventInput[] = decisions.map((d) => ({
    kind: 'access',
    at: now,
    actorType: 'partner',
    actorId: partnerId,
    partnerId,
    subjectId: pseudonymOf(d.subjectId),
    purpose: d.purpose,
    requestId,
    released: d.released,
    denied: d.denied,
    consentIds: d.consentIds,
    ...(details ? { details } : {}),
  }));
  const { tracing, metrics } = services;
  const started = performance.now();
  let confirmed: bigint | null = null;
  try {
    if (events.length) {
      const appended = await tracing.inSpan(
        telemetry.traceContext,
        'consentry.audit.append',
        { 'db.system.name': 'postgresql', 'db.operation.name': 'INSERT', 'consentry.audit.events': events.length },
        (span) => services.auditLog.appendDecisions(events, check(new Set(expired)), (group) => span.setAttribute('consentry.group.requests', group)),
        SpanKind.CLIENT,
      );
      if (!expired.length) confirmed = appended.basis;
    }
  } catch (err) {
    if (events.length && !(err instanceof StaleFactsError)) metrics.auditAppendFailures.inc();
    throw err;
  } finally {
    if (events.length) metrics.auditAppendDuration.observe((performance.now() - started) / 1000);
  }
  countDecisions(services, partnerId, decisions);
  return confirmed;
}

function countDecisions(services: Services, partnerId: string, decisions: readonly ReleaseDecision[]): void {
  let released = 0;
  const denied = new Map<string, number>();
  for (const d of decisions) {
    released += d.released.length;
    for (const denial of d.denied) denied.set(denial.code, (denied.get(denial.code) ?? 0) + 1);
  }
  if (released) services.metrics.releases.inc({ partner: partnerId }, released);
  for (const [code, n] of denied) services.metrics.denials.inc({ partner: partnerId, code }, n);
}
