import type { GraphQLRequestContextDidResolveOperation } from '@apollo/server';
import { Kind, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';
import { collectFields } from 'graphql/execution/collectFields.js';
import { getVariableValues } from 'graphql/execution/values.js';
import type { GatewayContext } from './context.js';

export interface ResolvedOperation {
  operation: OperationDefinitionNode;
  fragments: Record<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
  rootTypeName: string;
  /** Root field names as execution will see them: fragments expanded, @skip/@include applied. */
  rootFieldNames: string[];
}

const cache = new WeakMap<object, ResolvedOperation>();

/**
 * The operation as execution will run it, computed once per request and
 * shared by the plugins: a root field hidden in a fragment is still a root field.
 */
export function resolveOperation(rc: GraphQLRequestContextDidResolveOperation<GatewayContext>): ResolvedOperation {
  const cached = cache.get(rc);
  if (cached) return cached;
  const operation = rc.operation;
  // Apollo calls didResolveOperation only once an operation is chosen; the type allows none.
  if (!operation) throw new Error('didResolveOperation without an operation');
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const def of rc.document.definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) fragments[def.name.value] = def;
  }
  const coerced = getVariableValues(rc.schema, operation.variableDefinitions ?? [], rc.request.variables ?? {});
  const variables = 'coerced' in coerced && coerced.coerced ? coerced.coerced : {};
  const rootType = rc.schema.getRootType(operation.operation)!;
  const fields = collectFields(rc.schema, fragments, variables, rootType, operation.selectionSet);
  const resolved: ResolvedOperation = {
    operation,
    fragments,
    variables,
    rootTypeName: rootType.name,
    rootFieldNames: [...new Set([...fields.values()].map((nodes) => nodes[0]!.name.value))],
  };
  cache.set(rc, resolved);
  return resolved;
}
