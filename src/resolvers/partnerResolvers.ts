import { BadUserInputError } from '../errors.js';
import type { DecidedSubject } from '../gateway/accessDecisions.js';
import type { GatewayContext } from '../gateway/context.js';
import { denialError } from '../gateway/denialErrors.js';
import type { RootFieldDecisions } from '../policy/decideRequest.js';
import type { Resolvers } from '../schema/generated/types.js';

const MAX_HISTORY_MONTHS = 120;

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
      const summary = ctx.subjectRecords?.get(s.id)?.score;
      return summary ? { ...s, summary } : null;
    },
    identity: (s, _args, ctx) => ctx.subjectRecords?.get(s.id)?.identity ?? null,
  },
  // Synchronous on purpose: the data was read with the decision facts, and a
  // promise per field would cost more than the field itself.
  ScoreSummary: {
    atLeast: (s, args) => (s.summary ? s.summary.value >= args.threshold : null),
    band: (s) => s.summary?.band ?? null,
    value: (s) => s.summary?.value ?? null,
    dimensions: (s) => s.summary?.dimensions ?? null,
    factors: (s) => s.summary?.factors ?? null,
    history: (s, args) => {
      const months = args.months ?? 12;
      if (!Number.isInteger(months) || months < 1 || months > MAX_HISTORY_MONTHS) {
        throw new BadUserInputError(`months must be between 1 and ${MAX_HISTORY_MONTHS}.`, { argument: 'months' });
      }
      return s.summary?.history.slice(0, months) ?? null;
    },
    asOf: (s) => s.summary?.asOf ?? null,
    model: (s) => s.summary?.model ?? null,
  },
};

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
