import { randomUUID } from 'node:crypto';
import fastifyApollo, { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import formbody from '@fastify/formbody';
import cookie from '@fastify/cookie';
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { authenticate, type ExternalTokenVerifier } from '../auth/authenticate.js';
import { handleTokenRequest, pruneUsedAssertions } from '../auth/tokenEndpoint.js';
import { isConsentryError } from '../errors.js';
import { createApolloServer } from '../gateway/apolloServer.js';
import type { GatewayContext } from '../gateway/context.js';
import { toGraphQLError } from '../gateway/toGraphQLError.js';
import type { Services } from '../services.js';
import { listCategories } from '../store/registries.js';
import { registerWebRoutes } from '../web/routes.js';
import { createExternalVerifier } from '../auth/trustedIssuers.js';
import { startAuditJobs } from '../audit/auditJobs.js';

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
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w\-.]{1,100}$/.test(given) ? given : randomUUID();
    },
    trustProxy: true,
    bodyLimit: 2 * 1024 * 1024,
  });
  const redis = config.redisUrl ? new Redis(config.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 1 }) : undefined;
  redis?.on('error', (err) => services.logger.warn({ err }, 'redis error'));
  const externalVerifier = options.externalVerifier ?? createExternalVerifier(config.trustedIssuers, services.clock, config.issuer);

  await app.register(formbody);
  await app.register(cookie);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const ok = await services.db.isReachable();
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'database unreachable' });
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', services.metrics.registry.contentType);
    return services.metrics.registry.metrics();
  });

  const tokenEndpointUrl = `${config.issuer}/oauth/token`;
  app.get('/.well-known/jwks.json', async (_req, reply) => {
    reply.header('cache-control', 'public, max-age=300');
    return services.keys.jwks();
  });
  app.get('/.well-known/oauth-authorization-server', async () => ({
    issuer: config.issuer,
    token_endpoint: tokenEndpointUrl,
    jwks_uri: `${config.issuer}/.well-known/jwks.json`,
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA'],
    scopes_supported: (await listCategories(services.db)).map((c) => c.name),
    response_types_supported: [],
    service_documentation: `${config.issuer}/`,
  }));
  app.post('/oauth/token', async (request, reply) => {
    const form = (request.body && typeof request.body === 'object' ? request.body : {}) as Record<string, unknown>;
    try {
      const result = await handleTokenRequest(form, {
        db: services.db,
        tokens: services.tokens,
        clock: services.clock,
        issuer: config.issuer,
        tokenEndpointUrl,
      });
      services.metrics.tokensIssued.inc({ outcome: result.status === 200 ? 'issued' : String(result.body.error) });
      reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
      if (result.status === 401) reply.header('www-authenticate', 'Bearer error="invalid_client"');
      return reply.code(result.status).send(result.body);
    } catch (err) {
      if (isConsentryError(err) && err.code === 'SERVICE_UNAVAILABLE') {
        return reply.code(503).send({ error: 'temporarily_unavailable', error_description: err.message });
      }
      services.logger.error({ err, requestId: request.id }, 'token endpoint failed');
      return reply.code(500).send({ error: 'server_error', error_description: 'Internal server error' });
    }
  });

  const apollo = createApolloServer(services, { redis, transportPlugins: [fastifyApolloDrainPlugin(app)] });
  await apollo.start();
  await app.register(fastifyApollo(apollo), {
    context: async (request): Promise<GatewayContext> => {
      let principal;
      try {
        principal = await authenticate(request.headers.authorization, services.tokens, externalVerifier);
      } catch (err) {
        if (isConsentryError(err)) throw toGraphQLError(err);
        throw err;
      }
      return {
        requestId: request.id,
        services,
        principal,
      };
    },
  });

  await registerWebRoutes(app, services, { externalVerifier });

  const pruneTimer = setInterval(() => {
    pruneUsedAssertions(services.db, services.clock()).catch((err) => services.logger.warn({ err }, 'pruning used assertions failed'));
  }, 60_000);
  pruneTimer.unref();

  const auditJobs = startAuditJobs(services);

  return {
    app,
    async close() {
      clearInterval(pruneTimer);
      await app.close();
      await auditJobs.stop();
      redis?.disconnect();
    },
  };
}
