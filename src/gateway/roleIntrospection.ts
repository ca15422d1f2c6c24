import { HeaderMap, type ApolloServerPlugin, type GraphQLRequestContextDidResolveOperation } from '@apollo/server';
import { execute } from 'graphql';
import { USER_ROLES, type Principal, type Role } from '../auth/principal.js';
import { BadUserInputError, ForbiddenError } from '../errors.js';
import type { GatewayContext } from './context.js';
import { resolveOperation } from './operationFields.js';
import type { RequestGuard } from './requestGuard.js';
import type { RoleSchemas } from './roleSchemas.js';

const INTROSPECTION_FIELDS = new Set(['__schema', '__type']);

/**
 * Introspection shows each caller the schema of its own roles: a partner the
 * partner schema, a subject, officer or operator theirs. The answer comes from
 * a role schema built at start-up, so an ordinary operation pays one look at
 * its root field names and nothing more. (Where introspection is off, in
 * production, Apollo's validation refuses it before any of this.)
 */
export function roleIntrospection(schemas: RoleSchemas): { guard: RequestGuard; plugin: ApolloServerPlugin<GatewayContext> } {
  const isIntrospection = (names: readonly string[]) => names.some((n) => INTROSPECTION_FIELDS.has(n));
  return {
    guard: {
      name: 'roleIntrospection',
      check(rc) {
        const { rootFieldNames } = resolveOperation(rc);
        if (!isIntrospection(rootFieldNames)) return;
        // Mixed with data, the meta-fields would answer from the full schema: ask for the schema on its own.
        if (rootFieldNames.some((n) => !INTROSPECTION_FIELDS.has(n) && n !== '__typename')) {
          throw new BadUserInputError('Introspection cannot be combined with other fields; send it as an operation of its own.');
        }
        if (!schemas.forRoles(rolesOf(rc.contextValue.principal))?.getQueryType()) {
          throw new ForbiddenError('No query is open to the roles of this token, so there is no schema to show.');
        }
      },
    },
    plugin: {
      async requestDidStart() {
        return {
          async responseForOperation(rc) {
            // The same request context didResolveOperation saw (Apollo only narrows its type differently): the resolved operation is cached.
            if (!isIntrospection(resolveOperation(rc as GraphQLRequestContextDidResolveOperation<GatewayContext>).rootFieldNames)) return null;
            const schema = schemas.forRoles(rolesOf(rc.contextValue.principal))!;
            const result = await execute({
              schema,
              document: rc.document,
              operationName: rc.operationName,
              variableValues: rc.request.variables,
            });
            return { http: { status: undefined, headers: new HeaderMap() }, body: { kind: 'single', singleResult: result } };
          },
        };
      },
    },
  };
}

function rolesOf(principal: Principal | undefined): Role[] {
  if (!principal) return [];
  return principal.kind === 'partner' ? ['partner'] : USER_ROLES.filter((r) => principal.roles.has(r));
}
