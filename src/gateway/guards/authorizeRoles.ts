import { hasRole } from '../../auth/principal.js';
import { ForbiddenError, UnauthenticatedError } from '../../errors.js';
import { resolveOperation } from '../operationFields.js';
import type { RequestGuard } from '../requestGuard.js';
import type { SchemaPolicy } from '../schemaPolicy.js';

/**
 * Checks every root field of the operation against its @requiresRole.
 * Subject-reading fields accept nothing but a partner access token: any other
 * credential there is not a credential (401), not merely the wrong role.
 */
export function authorizeRolesGuard(policy: SchemaPolicy): RequestGuard {
  return {
    name: 'authorizeRoles',
    check(rc) {
      const { principal } = rc.contextValue;
      const { rootTypeName, rootFieldNames } = resolveOperation(rc);
      for (const name of rootFieldNames) {
        const coordinate = `${rootTypeName}.${name}`;
        const roles = policy.requiredRoles.get(coordinate);
        if (!roles) continue;
        if (!principal) throw new UnauthenticatedError('A bearer token is required.');
        if (policy.subjectAccessFields.has(coordinate) && principal.kind !== 'partner') {
          throw new UnauthenticatedError('Reading subjects requires a partner access token from /oauth/token.');
        }
        if (!roles.some((r) => hasRole(principal, r))) {
          throw new ForbiddenError(`${name} requires the role ${roles.join(' or ')}.`, { field: name });
        }
      }
    },
  };
}
