import type { ApolloServerPlugin } from '@apollo/server';
import { hasRole } from '../../auth/principal.js';
import { ForbiddenError, UnauthenticatedError } from '../../errors.js';
import type { GatewayContext } from '../context.js';
import { resolveOperation } from '../operationFields.js';
import type { SchemaPolicy } from '../schemaPolicy.js';
import { toGraphQLError } from '../toGraphQLError.js';

/**
 * Checks every root field of the operation against its @requiresRole before
 * anything executes. Subject-reading fields accept nothing but a partner
 * access token: any other credential there is not a credential (401), not
 * merely the wrong role.
 */
export function authorizeRolesPlugin(policy: SchemaPolicy): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(rc) {
          const { principal } = rc.contextValue;
          const { rootTypeName, rootFieldNames } = resolveOperation(rc);
          for (const name of rootFieldNames) {
            const coordinate = `${rootTypeName}.${name}`;
            const roles = policy.requiredRoles.get(coordinate);
            if (!roles) continue;
            if (!principal) throw toGraphQLError(new UnauthenticatedError('A bearer token is required.'));
            if (policy.subjectAccessFields.has(coordinate) && principal.kind !== 'partner') {
              throw toGraphQLError(
                new UnauthenticatedError('Reading subjects requires a partner access token from /oauth/token.'),
              );
            }
            if (!roles.some((r) => hasRole(principal, r))) {
              throw toGraphQLError(new ForbiddenError(`${name} requires the role ${roles.join(' or ')}.`, { field: name }));
            }
          }
        },
      };
    },
  };
}
