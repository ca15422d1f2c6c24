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
import { authorizeRolesPlugin } from './plugins/authorizeRoles.js';
import { enforceReleasePlugin } from './plugins/enforceRelease.js';
import { probingThrottlePlugin } from './plugins/probingThrottle.js';
import { queryLimitsPlugin } from './plugins/queryLimits.js';
import { rateLimitPlugin } from './plugins/rateLimit.js';
import { requestMetricsPlugin } from './plugins/requestMetrics.js';
import { unavailableStatusPlugin } from './plugins/unavailableStatus.js';

export interface GatewayOptions {
  redis?: Redis;
  /** Transport plugins (the HTTP server's drain plugin). */
  transportPlugins?: ApolloServerPlugin<GatewayContext>[];
}

/**
 * The GraphQL gateway, assembled from plugins listed here in the order they
 * act on each request: limits, who may call what, how often, then the release
 * decision and its audit record; resolvers run only after all of them.
 */
export function createApolloServer(services: Services, options: GatewayOptions = {}): ApolloServer<GatewayContext> {
  const resolvers = [scalarResolvers, partnerResolvers, consentResolvers, complianceResolvers] as IResolvers[];
  const { schema, policy } = buildGatewaySchema(resolvers);
  const development = services.config.nodeEnv === 'development';
  const plugins: ApolloServerPlugin<GatewayContext>[] = [
    requestMetricsPlugin(services.metrics),
    unavailableStatusPlugin(),
    queryLimitsPlugin(),
    authorizeRolesPlugin(policy),
    rateLimitPlugin({ ...services.config.rateLimit, redis: options.redis }),
    probingThrottlePlugin(services),
    enforceReleasePlugin(services, policy),
    ApolloServerPluginLandingPageDisabled(),
    // Responses are per partner and never cacheable; computing cache hints per field is pure cost.
    ApolloServerPluginCacheControlDisabled(),
    ...(options.transportPlugins ?? []),
  ];
  return new ApolloServer<GatewayContext>({
    schema,
    plugins,
    formatError: createFormatError(services.logger, development),
    includeStacktraceInErrorResponses: false,
    introspection: services.config.nodeEnv !== 'production',
    csrfPrevention: true,
  });
}
