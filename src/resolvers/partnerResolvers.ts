import { BadUserInputError, PurposeNotAllowedError } from '../errors.js';
import type { DecidedSubject, RootFieldDecisions } from '../gateway/accessDecisions.js';
import type { GatewayContext } from '../gateway/context.js';
import type { Resolvers } from '../schema/generated/types.js';
import type { SubjectRecord } from '../store/scoreSummaries.js';

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
    // The summary object always exists so that a denied field reports its own
    // reason: a missing subject and a non-consenting one look the same.
    score: async (s, _args, ctx) => {
      if (!s.decision.released.some((c) => c.startsWith('score.'))) return s;
      return (await ctx.subjects.load(s.id))?.score ? s : null;
    },
    identity: async (s, _args, ctx) => (await record(ctx, s))?.identity ?? null,
  },
  ScoreSummary: {
    atLeast: async (s, args, ctx) => {
      const score = await summary(ctx, s);
      return score ? score.value >= args.threshold : null;
    },
    band: async (s, _args, ctx) => (await summary(ctx, s))?.band ?? null,
    value: async (s, _args, ctx) => (await summary(ctx, s))?.value ?? null,
    dimensions: async (s, _args, ctx) => (await summary(ctx, s))?.dimensions ?? null,
    factors: async (s, _args, ctx) => (await summary(ctx, s))?.factors ?? null,
    history: async (s, args, ctx) => {
      const months = args.months ?? 12;
      if (!Number.isInteger(months) || months < 1 || months > MAX_HISTORY_MONTHS) {
        throw new BadUserInputError(`months must be between 1 and ${MAX_HISTORY_MONTHS}.`, { argument: 'months' });
      }
      return (await summary(ctx, s))?.history.slice(0, months) ?? null;
    },
    asOf: async (s, _args, ctx) => (await summary(ctx, s))?.asOf ?? null,
    model: async (s, _args, ctx) => (await summary(ctx, s))?.model ?? null,
  },
};

function rootDecisions(ctx: GatewayContext, responseKey: string | number): RootFieldDecisions {
  const root = ctx.access?.get(String(responseKey));
  // Reaching a subject field without decisions means the plugin did not run: fail closed.
  if (!root) throw new Error(`no release decisions for root field ${String(responseKey)}`);
  if (root.refusedWith) {
    throw new PurposeNotAllowedError(`This partner is not approved for the purpose "${root.purpose}".`, {
      purpose: root.purpose,
    });
  }
  return root;
}

function decided(root: RootFieldDecisions, id: string): DecidedSubject {
  const decision = root.bySubject.get(id);
  if (!decision) throw new Error(`no release decision for a requested subject`);
  return { id, decision };
}

function record(ctx: GatewayContext, s: DecidedSubject): Promise<SubjectRecord | null> {
  return ctx.subjects.load(s.id);
}

async function summary(ctx: GatewayContext, s: DecidedSubject) {
  return (await record(ctx, s))?.score ?? null;
}
