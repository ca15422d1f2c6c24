import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { IResolvers } from '@graphql-tools/utils';
import type { Redis } from 'ioredis';
import type { Services } from '../services.js';
import { partnerResolvers } from '../resolvers/partnerResolvers.js';
import { consentResolvers } from '../resolvers/consentResolvers.js';
import { complianceResolvers } from '../resolvers/complianceResolvers.js';
import { scalarResolvers } from '../resolvers/scalars.js';
import { buildGatewaySchema } from './buildSchema.js';
import type { GatewayContext } from './context.js';
import { createFormatError } from './formatError.js';
import { authorizeRolesGuard } from './guards/authorizeRoles.js';
import { inputHygieneGuard } from './guards/inputHygiene.js';
import { probingThrottleGuard } from './guards/probingThrottle.js';
import { rateLimitGuard } from './guards/rateLimit.js';
import { requestGatePlugin } from './plugins/requestGate.js';
import { requestObservabilityPlugin } from './plugins/requestObservability.js';
import { unavailableStatusPlugin } from './plugins/unavailableStatus.js';
import { queryCostGuard } from './guards/queryCost.js';
import { knownPurposeVariablesGuard } from './guards/knownPurposeVariables.js';
import { roleIntrospection } from './roleIntrospection.js';
import type { RoleSchemas } from './roleSchemas.js';
import { knownPurposeRule } from './rules/knownPurposeRule.js';
import { DEFAULT_QUERY_LIMITS } from './queryLimits.js';
import { releaseStep } from './releaseStep.js';
import { trustedDocumentStep } from './trustedDocumentStep.js';
import type { TrustedDocumentLookup } from '../partners/trustedDocuments.js';

export interface GatewayOptions {
  redis?: Redis;
  /** Transport plugins (the HTTP server's drain plugin). */
  transportPlugins?: ApolloServerPlugin<GatewayContext>[];
  /** The per-role schemas introspection answers from, built once at start-up. */
  roleSchemas: RoleSchemas;
  /** The purpose registry's names, read at start-up: what a `@purpose` argument accepts. */
  validPurposes: readonly string[];
  /** Partners' registered documents and their standing, for the trusted-documents check. */
  trustedDocuments: TrustedDocumentLookup;
}

/**
 * The GraphQL gateway. Each request meets, in this order: authentication and
 * the document limits (the HTTP edge, before Apollo parses), validation (with
 * known purposes), then the guards — cost, input, purposes in variables,
 * introspection, roles, rate, probing — and only after all of them
 * the trusted-documents check, the release decision and its audit record;
 * resolvers run last.
 */
export function createApolloServer(services: Services, options: GatewayOptions): ApolloServer<GatewayContext> {
  const resolvers = [scalarResolvers, partnerResolvers, consentResolvers, complianceResolvers] as IResolvers[];
  const { schema, policy } = buildGatewaySchema(resolvers);
  const development = services.config.nodeEnv === 'development';
  const production = services.config.nodeEnv === 'production';
  const purposes = { positions: policy.purposeInputs, validPurposes: options.validPurposes };
  const introspection = roleIntrospection(options.roleSchemas);
  const guards = [
    queryCostGuard(DEFAULT_QUERY_LIMITS),
    inputHygieneGuard(),
    knownPurposeVariablesGuard(purposes),
    introspection.guard,
    authorizeRolesGuard(policy),
    rateLimitGuard({ ...services.config.rateLimit, redis: options.redis }),
    probingThrottleGuard(services),
  ];
  const plugins: ApolloServerPlugin<GatewayContext>[] = [
    requestObservabilityPlugin(services),
    unavailableStatusPlugin(),
    requestGatePlugin(
      guards,
      trustedDocumentStep(options.trustedDocuments, policy, releaseStep(services, policy, options.trustedDocuments)),
    ),
    introspection.plugin,
    ApolloServerPluginLandingPageDisabled(),
    // Responses are per partner and never cacheable; computing cache hints per field is pure cost.
    ApolloServerPluginCacheControlDisabled(),
    ...(options.transportPlugins ?? []),
  ];
  return new ApolloServer<GatewayContext>({
    schema,
    plugins,
    // The edge already refused longer documents (http/server.ts); this keeps Apollo's own parse bounded too.
    parseOptions: { maxTokens: DEFAULT_QUERY_LIMITS.maxTokens },
    formatError: createFormatError(development),
    includeStacktraceInErrorResponses: false,
    introspection: !production,
    validationRules: [knownPurposeRule(purposes)],
    // No "Did you mean …?" in production: suggestions would map the schema for someone without introspection.
    hideSchemaDetailsFromClientErrors: production,
    csrfPrevention: true,
  });
}
