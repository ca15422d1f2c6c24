import { canonicalJson } from '../audit/canonical.js';
import type { AuditEvent } from '../audit/chain.js';
import { decodeSeqCursor, encodeSeqCursor } from '../audit/auditFilter.js';
import { actorOf } from '../audit/auditExport.js';
import { listCheckpoints, writeCheckpoint } from '../audit/checkpoints.js';
import { listConsents } from '../audit/complianceConsents.js';
import { partnerReport } from '../audit/partnerReport.js';
import { readEventPage } from '../audit/storedEvents.js';
import { verifyStoredChain } from '../audit/verifyStoredChain.js';
import { BadUserInputError } from '../errors.js';
import type { AuditEvent as AuditEventNode, Resolvers } from '../schema/generated/types.js';

/** Officers page through millions of events; larger pages are cut to this so one request cannot pull the whole log. */
export const MAX_PAGE_SIZE = 500;

/**
 * Compliance-officer resolvers. The role check happened before execution
 * (@requiresRole); these read the audit log and consents, which never hold
 * score values.
 */
export const complianceResolvers: Resolvers = {
  Query: {
    auditEvents: async (_root, args, ctx) => {
      const first = pageSize(args.first);
      const { includeErased, ...filter } = args.filter ?? {};
      const events = await readEventPage(ctx.services.db, {
        filter,
        hideErased: !includeErased,
        afterSeq: decodeSeqCursor(args.after),
        limit: first + 1,
      });
      const page = events.slice(0, first);
      return {
        edges: page.map((e) => ({ cursor: encodeSeqCursor(e.seq), node: auditEventNode(e) })),
        pageInfo: { hasNextPage: events.length > first, endCursor: page.length ? encodeSeqCursor(page.at(-1)!.seq) : args.after ?? null },
      };
    },
    consents: async (_root, args, ctx) => {
      const first = pageSize(args.first);
      const { consents, hasNextPage } = await listConsents(ctx.services.db, {
        filter: args.filter ?? {},
        first,
        after: args.after,
        now: ctx.services.clock(),
      });
      return {
        edges: consents.map((c) => ({ cursor: c.cursor, node: c })),
        pageInfo: { hasNextPage, endCursor: consents.at(-1)?.cursor ?? args.after ?? null },
      };
    },
    auditIntegrity: async (_root, _args, ctx) => {
      const result = await verifyStoredChain(ctx.services);
      return {
        ok: result.ok,
        eventsChecked: result.eventsChecked,
        firstBadSeq: result.problem?.seq ?? null,
        head: result.head?.hash ?? null,
        headSeq: result.head?.seq ?? null,
        checkpointsChecked: result.checkpointsChecked,
        problemCode: result.problem?.code ?? null,
        problem: result.problem?.message ?? null,
      };
    },
    partnerReport: (_root, args, ctx) =>
      partnerReport(ctx.services.db, ctx.services.config.probing, { ...args, now: ctx.services.clock() }),
    auditCheckpoints: (_root, args, ctx) => listCheckpoints(ctx.services.db, pageSize(args.first)),
  },
  Mutation: {
    createAuditCheckpoint: async (_root, _args, ctx) => {
      const { db, keys, clock, config } = ctx.services;
      return (await writeCheckpoint({ db, keys, clock, issuer: config.issuer })) ?? null;
    },
  },
};

function pageSize(first: number | null | undefined): number {
  const n = first ?? 50;
  if (!Number.isInteger(n) || n < 1) throw new BadUserInputError('first must be at least 1.', { argument: 'first' });
  return Math.min(n, MAX_PAGE_SIZE);
}

function auditEventNode(e: AuditEvent): AuditEventNode {
  return {
    seq: e.seq,
    at: e.at,
    kind: e.kind,
    actor: actorOf(e),
    partnerId: e.partnerId,
    subjectId: e.subjectId,
    purpose: e.purpose,
    requestId: e.requestId,
    released: e.released,
    denied: e.denied,
    consentIds: e.consentIds,
    details: canonicalJson(e.details),
    prevHash: e.prevHash,
    hash: e.hash,
  };
}
