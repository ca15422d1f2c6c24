import { approveConsentRequest } from '../consent/approveConsentRequest.js';
import { subjectAccessLog } from '../consent/accessLog.js';
import {
  approvalUrl,
  consentOfRequest,
  readConsentRequest,
  requestConsent,
  type ConsentRequestRecord,
  type ConsentRequestViewer,
} from '../consent/consentRequests.js';
import type { ConsentRecord } from '../consent/subjectConsents.js';
import { consentDepsOf } from '../consent/consentDeps.js';
import { declineConsentRequest } from '../consent/declineConsentRequest.js';
import type { ConsentDeps } from '../consent/grantConsent.js';
import { revokeConsent } from '../consent/revokeConsent.js';
import { consentStatus, listMyConsents } from '../consent/subjectConsents.js';
import { ForbiddenError, PartnerSuspendedError, UnauthenticatedError } from '../errors.js';
import type { GatewayContext } from '../gateway/context.js';
import { toGraphQLError } from '../gateway/toGraphQLError.js';
import type { Consent, ConsentRequest, Resolvers } from '../schema/generated/types.js';

/**
 * The consent lifecycle over GraphQL: partners ask, subjects answer, revoke
 * and look back. Roles are already checked by @requiresRole; these only map
 * the caller to whose data it is and call the lifecycle operations.
 */
export const consentResolvers: Resolvers = {
  Query: {
    consentRequest: async (_root, { id }, ctx) => {
      const request = await readConsentRequest(consentDeps(ctx), id, viewerOf(ctx));
      return request ? requestView(ctx, request) : null;
    },
    myConsents: async (_root, { includeInactive }, ctx) => {
      const consents = await listMyConsents(consentDeps(ctx), subjectOf(ctx), includeInactive ?? false);
      return consents.map((c) => consentView(ctx, c));
    },
    myAccessLog: (_root, { first, after }, ctx) => subjectAccessLog(ctx.services.db, ctx.services.pseudonyms, subjectOf(ctx), { first, after }),
    myRecord: (_root, _args, ctx) => {
      subjectOf(ctx);
      const base = `${ctx.services.config.issuer}/me/record`;
      return { json: `${base}.json`, csv: `${base}.csv` };
    },
  },
  Mutation: {
    requestConsent: async (_root, { input }, ctx) => {
      const principal = ctx.principal;
      if (principal?.kind !== 'partner') throw new ForbiddenError('requestConsent requires a partner access token.');
      try {
        return requestView(ctx, await requestConsent(consentDeps(ctx), principal.partnerId, input));
      } catch (err) {
        // A suspended partner is refused whole (403), as on the read path, not with a 200 field error.
        if (err instanceof PartnerSuspendedError) throw toGraphQLError(err);
        throw err;
      }
    },
    approveConsentRequest: async (_root, { id, categories }, ctx) => {
      const consent = await approveConsentRequest(consentDeps(ctx), { requestId: id, subjectId: subjectOf(ctx), categories, channel: 'api' });
      return consentView(ctx, consent);
    },
    declineConsentRequest: async (_root, { id }, ctx) => {
      return requestView(ctx, await declineConsentRequest(consentDeps(ctx), { requestId: id, subjectId: subjectOf(ctx), channel: 'api' }));
    },
    revokeConsent: async (_root, { id }, ctx) => {
      return consentView(ctx, await revokeConsent(consentDeps(ctx), { consentId: id, actor: { type: 'subject', id: subjectOf(ctx) }, channel: 'api' }));
    },
  },
};

const consentDeps = (ctx: GatewayContext): ConsentDeps => consentDepsOf(ctx.services);

function subjectOf(ctx: GatewayContext): string {
  const p = ctx.principal;
  if (!p) throw new UnauthenticatedError('A bearer token is required.');
  if (p.kind !== 'user' || !p.roles.has('subject')) throw new ForbiddenError('This operation requires the subject role.');
  return p.sub;
}

function viewerOf(ctx: GatewayContext): ConsentRequestViewer {
  const p = ctx.principal;
  return p?.kind === 'partner' ? { partnerId: p.partnerId } : { subjectId: subjectOf(ctx) };
}

function consentView(ctx: GatewayContext, c: ConsentRecord): Consent {
  return {
    id: c.id,
    subjectId: c.subjectId,
    partnerId: c.partnerId,
    purpose: c.purpose,
    categories: c.categories,
    grantedAt: c.grantedAt,
    expiresAt: c.expiresAt,
    revokedAt: c.revokedAt,
    status: consentStatus(c, ctx.services.clock()),
    receipt: c.receipt,
  };
}

async function requestView(ctx: GatewayContext, r: ConsentRequestRecord): Promise<ConsentRequest> {
  const consent = await consentOfRequest(ctx.services, r);
  return {
    id: r.id,
    status: r.status,
    approvalUrl: approvalUrl(ctx.services.config.issuer, r.id),
    purpose: r.purpose,
    categories: r.categories,
    expiresAt: r.expiresAt,
    consent: consent ? consentView(ctx, consent) : null,
  };
}
