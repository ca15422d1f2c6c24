import { BadUserInputError } from '../errors.js';
import type { DecidedSubject, DecidedSummary } from '../gateway/accessDecisions.js';
import type { GatewayContext } from '../gateway/context.js';
import { denialError } from '../gateway/denialErrors.js';
import type { RootFieldDecisions } from '../policy/decideRequest.js';
import { MAX_HISTORY_MONTHS } from '../policy/sourceAsk.js';
import type { SourcedData, SourcedSummary } from '../scores/scoreSource.js';
import type { Resolvers } from '../schema/generated/types.js';

/**
 * Partner-facing resolvers. They never decide: the gates around @category
 * fields (gateway/buildSchema.ts) have already checked the decision; these
 * only read data for what was released.
 */
export const partnerResolvers: Resolvers = {
  Query: {
    subject: (_root, args, ctx, info) => decided(rootDecisions(ctx, info.path.key), args.id),
    subjects: (_root, args, ctx, info) => {
      const root = rootDecisions(ctx, info.path.key);
      return args.ids.map((id) => decided(root, id));
    },
  },
  Subject: {
    id: (s) => s.id,
    // The summary object exists even when nothing is released, so that each
    // denied field reports its own reason: a missing subject and a
    // non-consenting one look the same.
    score: (s, _args, ctx) => {
      if (!s.decision.released.some((c) => c.startsWith('score.'))) return { ...s, summary: null };
      const released = releasedData(ctx);
      // The gates still run on every field: denied ones keep their reason, released ones report the failure.
      if (!released.ok) return { ...s, summary: null, sourceFailure: released.error };
      const summary = released.subjects.get(s.id)?.score;
      return summary ? { ...s, summary } : null;
    },
    identity: (s, _args, ctx) => {
      const released = releasedData(ctx);
      if (!released.ok) throw released.error;
      return released.subjects.get(s.id)?.identity ?? null;
    },
  },
  // Synchronous on purpose: the data was fetched before execution, and a
  // promise per field would cost more than the field itself.
  ScoreSummary: {
    atLeast: (s, args) => {
      const summary = fetched(s);
      if (!summary) return null;
      // Asked of the source as a predicate, or compared here when the value itself was released.
      return summary.atLeast?.get(args.threshold) ?? (summary.value === undefined ? null : summary.value >= args.threshold);
    },
    band: (s) => fetched(s)?.band ?? null,
    value: (s) => fetched(s)?.value ?? null,
    dimensions: (s) => fetched(s)?.dimensions ?? null,
    factors: (s) => fetched(s)?.factors ?? null,
    history: (s, args) => {
      const months = args.months ?? 12;
      if (!Number.isInteger(months) || months < 1 || months > MAX_HISTORY_MONTHS) {
        throw new BadUserInputError(`months must be between 1 and ${MAX_HISTORY_MONTHS}.`, { argument: 'months' });
      }
      return fetched(s)?.history?.slice(0, months) ?? null;
    },
    asOf: (s) => fetched(s)?.asOf ?? null,
    model: (s) => fetched(s)?.model ?? null,
  },
};

/** A released field's data, or the source's failure as this field's error. */
function fetched(s: DecidedSummary): SourcedSummary | null {
  if (s.sourceFailure) throw s.sourceFailure;
  return s.summary;
}

function releasedData(ctx: GatewayContext): SourcedData {
  // Reaching released data without a fetch means the release step did not run: fail closed.
  if (!ctx.released) throw new Error('no released data for this request');
  return ctx.released;
}

function rootDecisions(ctx: GatewayContext, responseKey: string | number): RootFieldDecisions {
  const root = ctx.access?.get(String(responseKey));
  // Reaching a subject field without decisions means the plugin did not run: fail closed.
  if (!root) throw new Error(`no release decisions for root field ${String(responseKey)}`);
  if (root.refusal) throw denialError(root.refusal, root.purpose);
  return root;
}

function decided(root: RootFieldDecisions, id: string): DecidedSubject {
  const decision = root.bySubject.get(id);
  if (!decision) throw new Error(`no release decision for a requested subject`);
  return { id, decision };
}
