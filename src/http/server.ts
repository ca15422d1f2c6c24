import { randomUUID, timingSafeEqual } from 'node:crypto';
import fastifyApollo, { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import formbody from '@fastify/formbody';
import cookie from '@fastify/cookie';
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { authenticate, schemeOf, type ExternalTokenVerifier } from '../auth/authenticate.js';
import { DpopProofVerifier } from '../auth/dpopProof.js';
import { SignedStatements } from '../auth/signedStatements.js';
import { databaseReplayCache, redisReplayCache } from '../auth/proofReplayCache.js';
import { pruneUsedAssertions } from '../auth/tokenEndpoint.js';
import { wwwAuthenticate } from '../auth/wwwAuthenticate.js';
import type { Principal } from '../auth/principal.js';
import { isConsentryError, QueryTooComplexError, UnauthenticatedError, type ConsentryError } from '../errors.js';
import { documentLimitProblem } from '../gateway/queryLimits.js';
import { createApolloServer } from '../gateway/apolloServer.js';
import { RoleSchemas } from '../gateway/roleSchemas.js';
import { readSchemaPolicy } from '../gateway/schemaPolicy.js';
import { purposeNames } from '../partners/catalogue.js';
import { TrustedDocumentLookup } from '../partners/trustedDocuments.js';
import type { GatewayContext } from '../gateway/context.js';
import { toGraphQLError } from '../gateway/toGraphQLError.js';
import type { Services } from '../services.js';
import { pruneUsedDpopProofs } from '../store/usedDpopProofs.js';
import { registerWebRoutes } from '../web/routes.js';
import { pageLanguage } from '../web/language.js';
import { sendUnavailable } from '../web/pageReply.js';
import { createExternalVerifier } from '../auth/trustedIssuers.js';
import { startAuditJobs } from '../audit/auditJobs.js';
import { startRetentionJob } from '../subjects/retention.js';
import { RETRY_AFTER_SECONDS } from '../gateway/plugins/unavailableStatus.js';
import { checkReadiness } from '../health/readiness.js';
import { registerRequestTelemetry, telemetryOf } from './requestTelemetry.js';
import { PROTECTED_RESOURCE_METADATA_PATH, registerOAuthRoutes } from './oauthRoutes.js';
import { registerPartnerSchemaRoute } from './partnerSchemaRoute.js';
import { resolvePersistedDocument } from './trustedDocumentGate.js';

/**
 * The largest legitimate request is a 1,000-subject batch with 128-character
 * ids and every category (about 140 KB); anything far beyond that is refused
 * (413) before it is read whole.
 */
export const BODY_LIMIT_BYTES = 256 * 1024;

export interface GatewayServer {
  app: FastifyInstance;
  /** Stops taking requests, drains in-flight ones, then releases resources. */
  close(): Promise<void>;
}

export interface ServerOptions {
  externalVerifier?: ExternalTokenVerifier;
}

/** The HTTP edge: translates HTTP into gateway calls; nothing below it sees Fastify. */
export async function createServer(services: Services, options: ServerOptions = {}): Promise<GatewayServer> {
  const { config } = services;
  const app = Fastify({
    logger: false,
    // The gateway's own id, never the client's: audit records and reports count requests by it.
    genReqId: () => randomUUID(),
    trustProxy: true,
    bodyLimit: BODY_LIMIT_BYTES,
  });
  const redis = config.redisUrl ? new Redis(config.redisUrl, {
        lazyConnect: false,
        maxRetriesPerRequest: 1,
        // Deadlines: a Redis that is down or slow must not hold a request; the rate limit falls back to this process's own.
        enableOfflineQueue: false,
        connectTimeout: 1000,
        commandTimeout: 250,
      }) : undefined;
  redis?.on('error', (err) => services.logger.warn({ err }, 'redis error'));
  const externalVerifier = options.externalVerifier ?? createExternalVerifier(config.trustedIssuers, services.clock, config.issuer);
  registerRequestTelemetry(app, services);

  // The request deadline: a request still unanswered when it passes (a stalled store, a held lock) fails closed
  // with 503 and Retry-After; whatever its handler produces later is dropped, so nothing is released after it.
  app.addHook('onRequest', async (request, reply) => {
    const timer = setTimeout(() => {
      if (reply.sent) return;
      services.logger.warn(
        { requestId: request.id, traceId: telemetryOf(request).traceId, route: request.routeOptions.url, deadlineMs: config.deadlines.requestMs },
        'request deadline passed',
      );
      void reply
        .code(503)
        .header('retry-after', String(RETRY_AFTER_SECONDS))
        .header('content-type', 'application/json; charset=utf-8')
        .send({ errors: [{ message: 'The request could not be completed in time; nothing was released. Try again shortly.', extensions: { code: 'SERVICE_UNAVAILABLE' } }] });
    }, config.deadlines.requestMs);
    reply.raw.once('close', () => clearTimeout(timer));
  });

  // Anything a route lets escape: store or audit unavailable is 503 everywhere (a readable page for people),
  // anything else a generic 500 with the request id in the log, never the error itself.
  app.setErrorHandler((err: Error & { statusCode?: number }, request, reply) => {
    const unavailable = isConsentryError(err) && err.code === 'SERVICE_UNAVAILABLE';
    // Fastify's own client errors (a malformed body, a body too large) keep their status.
    if (!unavailable && err.statusCode !== undefined && err.statusCode < 500) return reply.code(err.statusCode).send({ error: err.message });
    if (!unavailable) services.logger.error({ err, requestId: request.id, traceId: telemetryOf(request).traceId }, 'request failed');
    const wantsPage = !request.url.startsWith('/graphql') && (request.headers.accept ?? '').includes('text/html');
    if (wantsPage && unavailable) return sendUnavailable(reply, request, pageLanguage(request, reply), RETRY_AFTER_SECONDS);
    if (unavailable) {
      return reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS)).send({ error: 'service_unavailable', message: err.message });
    }
    return reply.code(500).send({ error: 'server_error', message: 'Internal server error' });
  });

  await app.register(formbody);
  await app.register(cookie);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    const correlation = correlationIdOf(request.headers['x-request-id']);
    if (correlation) reply.header('x-correlation-id', correlation);
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const report = await checkReadiness(services);
    return reply.code(report.ready ? 200 : 503).send({ status: report.ready ? 'ready' : 'not ready', checks: report.checks });
  });
  app.get('/metrics', async (request, reply) => {
    if (!config.metricsToken) return reply.code(404).send({ error: 'not_found' });
    if (!bearerMatches(request.headers.authorization, config.metricsToken)) {
      return reply.code(401).header('www-authenticate', 'Bearer realm="metrics"').send({ error: 'unauthorized' });
    }
    reply.header('content-type', services.metrics.registry.contentType);
    return services.metrics.registry.metrics();
  });

  const dpop = new DpopProofVerifier(redis ? redisReplayCache(redis, services.clock) : databaseReplayCache(services.db), services.clock);
  const authenticators = { tokens: services.tokens, external: externalVerifier, dpop };
  registerOAuthRoutes(app, services, dpop);

  // Before Apollo sees a GraphQL request: who is calling, then whether the
  // document is within the limits, then, for a partner, a persisted document
  // named by hash. Every operation needs a credential, so an anonymous
  // sender is refused before its document is even parsed, and an oversized
  // document is refused after a bounded parse, never validated.
  const principals = new WeakMap<object, Principal>();
  const trustedDocuments = new TrustedDocumentLookup(services.db);
  const resourceMetadata = `${config.issuer}${PROTECTED_RESOURCE_METADATA_PATH}`;
  // A refusal decided later (a suspended partner's 403, a role's 401) still tells the client how to authenticate.
  app.addHook('onSend', async (request, reply) => {
    if (request.routeOptions.url !== '/graphql' || (reply.statusCode !== 401 && reply.statusCode !== 403) || reply.hasHeader('www-authenticate')) return;
    reply.header('www-authenticate', wwwAuthenticate({ resourceMetadata, usedScheme: schemeOf(request.headers.authorization), ...(reply.statusCode === 401 ? { error: 'invalid_token' as const } : {}) }));
  });
  app.addHook('preHandler', async (request, reply) => {
    if (request.routeOptions.url !== '/graphql') return;
    const refuse = (err: ConsentryError) => {
      if (err instanceof UnauthenticatedError) {
        reply.header(
          'www-authenticate',
          wwwAuthenticate({ resourceMetadata, error: err.challengeError ?? undefined, description: err.message, usedScheme: schemeOf(request.headers.authorization) }),
        );
      }
      return reply.code(err.httpStatus).header('content-type', 'application/json').send({ errors: [{ message: err.message, extensions: { code: err.code } }] });
    };
    const telemetry = telemetryOf(request);
    let principal: Principal | undefined;
    try {
      principal = await services.tracing.inSpan(telemetry.traceContext, 'consentry.authenticate', {}, async (span) => {
        const found = await authenticate(
          { authorization: request.headers.authorization, dpop: request.headers.dpop, method: request.method, url: `${config.issuer}${request.url.split('?')[0]}` },
          authenticators,
        );
        span.setAttribute('consentry.principal.kind', found?.kind ?? 'anonymous');
        return found;
      });
    } catch (err) {
      if (isConsentryError(err)) return refuse(err);
      throw err;
    }
    if (!principal) return refuse(new UnauthenticatedError('An access token is required.', null));
    if (principal.kind === 'partner') telemetry.partnerId = principal.partnerId;
    const query = queryOf(request.method === 'GET' ? request.query : request.body);
    const problem = query === undefined ? undefined : documentLimitProblem(query);
    if (problem) return refuse(new QueryTooComplexError(problem));
    if (principal.kind === 'partner') {
      let refusal: ConsentryError | undefined;
      try {
        refusal = await resolvePersistedDocument(trustedDocuments, request);
      } catch (err) {
        if (isConsentryError(err)) return refuse(err);
        throw err;
      }
      if (refusal) return refuse(refusal);
    }
    principals.set(request, principal);
  });

  // Built once: introspection per role and the published partner SDL cost the request path nothing.
  const roleSchemas = new RoleSchemas();
  const schemaPolicy = readSchemaPolicy(roleSchemas.partner);
  registerPartnerSchemaRoute(app, roleSchemas);
  // The purpose registry changes only with a migration, which every replica runs at start-up.
  const validPurposes = await purposeNames(services.db);
  const apollo = createApolloServer(services, { redis, transportPlugins: [fastifyApolloDrainPlugin(app)], roleSchemas, validPurposes, trustedDocuments });
  await apollo.start();
  await app.register(fastifyApollo(apollo), {
    context: async (request): Promise<GatewayContext> => {
      const principal = principals.get(request);
      // The edge hook authenticated every /graphql request; anything else is not served.
      if (!principal) throw toGraphQLError(new UnauthenticatedError('An access token is required.', null));
      return { requestId: request.id, services, principal, telemetry: telemetryOf(request) };
    },
  });

  await registerWebRoutes(app, {
    services,
    authenticators,
    statements: new SignedStatements(services.keys, config.issuer, services.clock),
    catalogueFields: schemaPolicy,
  });

  const pruneTimer = setInterval(() => {
    pruneUsedAssertions(services.db, services.clock()).catch((err) => services.logger.warn({ err }, 'pruning used assertions failed'));
    if (!redis) pruneUsedDpopProofs(services.db, services.clock()).catch((err) => services.logger.warn({ err }, 'pruning used DPoP proofs failed'));
  }, 60_000);
  pruneTimer.unref();

  const auditJobs = startAuditJobs(services);
  const retention = startRetentionJob(services, config.retention);

  return {
    app,
    async close() {
      clearInterval(pruneTimer);
      await app.close();
      await auditJobs.stop();
      await retention.stop();
      await services.scores.close();
      redis?.disconnect();
    },
  };
}

/** A client's own request id, kept only as a correlation header when it is short and plain. */
function correlationIdOf(given: string | string[] | undefined): string | undefined {
  return typeof given === 'string' && /^[\w\-.]{1,100}$/.test(given) ? given : undefined;
}

function bearerMatches(authorization: string | undefined, expected: string): boolean {
  const given = Buffer.from(/^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1] ?? '');
  const wanted = Buffer.from(expected);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

function queryOf(params: unknown): string | undefined {
  const query = params && typeof params === 'object' ? (params as { query?: unknown }).query : undefined;
  return typeof query === 'string' ? query : undefined;
}
