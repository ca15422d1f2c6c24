import type { ApolloServerPlugin, GraphQLRequestContextDidResolveOperation } from '@apollo/server';
import { isConsentryError, type ConsentryError } from '../../errors.js';
import type { GatewayContext } from '../context.js';
import type { RequestGuard } from '../requestGuard.js';
import { toGraphQLError } from '../toGraphQLError.js';

export type ReleaseStep = (rc: GraphQLRequestContextDidResolveOperation<GatewayContext>) => Promise<void>;

/**
 * The guards, then the release step, strictly in that order within one hook.
 * Apollo runs every plugin's didResolveOperation concurrently, so separate
 * plugins could not keep a refused request (429, wrong role) from being
 * planned, read and audited as a release; here the release step starts only
 * once every guard has let the request through.
 */
export function requestGatePlugin(guards: readonly RequestGuard[], release: ReleaseStep): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      let refusal: ConsentryError | undefined;
      return {
        async didResolveOperation(rc) {
          try {
            for (const guard of guards) await guard.check(rc);
            await release(rc);
          } catch (err) {
            // Typed errors keep their code; anything else is masked at the edge. Either way nothing is released.
            if (!isConsentryError(err)) throw err;
            refusal = err;
            throw toGraphQLError(err);
          }
        },
        async willSendResponse({ response }) {
          const retryAfter = refusal?.details.retryAfterSeconds;
          if (typeof retryAfter === 'number') response.http.headers.set('retry-after', String(retryAfter));
        },
      };
    },
  };
}
