import type { ApolloServerPlugin } from '@apollo/server';
import { probingMonitorFor } from '../../audit/probing.js';
import { RateLimitedError } from '../../errors.js';
import type { Services } from '../../services.js';
import type { GatewayContext } from '../context.js';
import { toGraphQLError } from '../toGraphQLError.js';

/**
 * When configured (config.probing.throttle), refuses partners flagged for
 * probing with RATE_LIMITED (429) until their flag leaves the window. The
 * check is a set lookup: the monitor (started with the server's audit jobs)
 * evaluates in the background, never per request.
 */
export function probingThrottlePlugin(services: Services): ApolloServerPlugin<GatewayContext> {
  const monitor = probingMonitorFor(services);
  const retryAfterSeconds = services.config.probing.windowMinutes * 60;
  return {
    async requestDidStart() {
      if (!services.config.probing.throttle) return {};
      let refused = false;
      return {
        async didResolveOperation({ contextValue }) {
          const principal = contextValue.principal;
          if (principal?.kind !== 'partner' || !monitor.isFlagged(principal.partnerId)) return;
          refused = true;
          throw toGraphQLError(
            new RateLimitedError('Requests from this partner are paused: its recent requests look like probing for non-consenting subjects.', {
              retryAfterSeconds,
            }),
          );
        },
        async willSendResponse({ response }) {
          if (refused) response.http.headers.set('retry-after', String(retryAfterSeconds));
        },
      };
    },
  };
}
