import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayContext } from '../context.js';

/** Seconds a client is asked to wait before retrying a request the store or audit log could not serve. */
export const RETRY_AFTER_SECONDS = 1;

/**
 * One status rule: when the store or the audit log was unavailable, the whole
 * response is 503 with Retry-After, whether the failure surfaced in planning
 * (a query) or in a resolver (a mutation), so clients that retry on 5xx
 * retry a failed revocation too.
 */
export function unavailableStatusPlugin(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response }) {
          if (response.body.kind !== 'single') return;
          const errors = response.body.singleResult.errors ?? [];
          if (!errors.some((e) => e.extensions?.code === 'SERVICE_UNAVAILABLE')) return;
          response.http.status = 503;
          response.http.headers.set('retry-after', String(RETRY_AFTER_SECONDS));
        },
      };
    },
  };
}
