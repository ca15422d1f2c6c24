import { telemetryOf } from './requestTelemetry.js';
import type { FastifyInstance } from 'fastify';
import { ASSERTION_ALGORITHMS } from '../auth/algorithms.js';
import { DPOP_ALGORITHMS, type DpopProofVerifier } from '../auth/dpopProof.js';
import { SIGNING_ALG } from '../auth/signingKeys.js';
import { handleTokenRequest } from '../auth/tokenEndpoint.js';
import { isConsentryError } from '../errors.js';
import { listCategories } from '../store/registries.js';
import { PARTNER_DOCS_PATH } from '../web/partnerDocsPage.js';
import type { Services } from '../services.js';

export const PROTECTED_RESOURCE_METADATA_PATH = '/.well-known/oauth-protected-resource';

/**
 * The authorization-server side (RFC 8414 metadata, the token endpoint, the
 * JWKS) and the resource side's RFC 9728 metadata. Everything advertised here
 * is what the code accepts: stock clients configure themselves from it.
 */
export function registerOAuthRoutes(app: FastifyInstance, services: Services, dpop: DpopProofVerifier): void {
  const { config } = services;
  const tokenEndpointUrl = `${config.issuer}/oauth/token`;
  const scopes = async () => (await listCategories(services.db)).map((c) => c.name);

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
    token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGORITHMS,
    dpop_signing_alg_values_supported: DPOP_ALGORITHMS,
    scopes_supported: await scopes(),
    // client_credentials only: no authorization endpoint, so no response types (RFC 8414 lists none as valid).
    response_types_supported: [],
    service_documentation: `${config.issuer}${PARTNER_DOCS_PATH}`,
    protected_resources: [config.issuer],
  }));
  // RFC 9728: the resource is the audience the gateway's access tokens carry, which is the issuer.
  app.get(PROTECTED_RESOURCE_METADATA_PATH, async () => ({
    resource: config.issuer,
    authorization_servers: [config.issuer],
    scopes_supported: await scopes(),
    bearer_methods_supported: ['header'],
    resource_signing_alg_values_supported: [SIGNING_ALG],
    resource_name: 'Consentry',
    resource_documentation: `${config.issuer}${PARTNER_DOCS_PATH}`,
    dpop_signing_alg_values_supported: DPOP_ALGORITHMS,
    // Partners registered with --dpop optional may still use bearer tokens.
    dpop_bound_access_tokens_required: false,
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
        dpop,
        dpopProof: request.headers.dpop,
      });
      telemetryOf(request).tokenOutcome = result.status === 200 ? 'issued' : String(result.body.error);
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
}
