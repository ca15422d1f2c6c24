import {
  getNamedType,
  isAbstractType,
  isObjectType,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { collectFields, collectSubfields } from 'graphql/execution/collectFields.js';
import { getArgumentValues } from 'graphql/execution/values.js';
import type { RootFieldAsk } from '../policy/decideRequest.js';
import type { SchemaPolicy } from './schemaPolicy.js';

export type { RootFieldAsk };

export interface OperationInput {
  schema: GraphQLSchema;
  policy: SchemaPolicy;
  operation: OperationDefinitionNode;
  fragments: Record<string, FragmentDefinitionNode>;
  /** Coerced variable values. */
  variables: Record<string, unknown>;
}

/**
 * Walks an operation the way execution will (fragments, inline fragments,
 * aliases, @skip/@include, abstract types expanded to every possible type)
 * and lists, per subject-reading root field, which categories of which
 * subjects it asks for and for what purpose. Pure: no I/O, no execution.
 */
export function planAccess(input: OperationInput): RootFieldAsk[] {
  const { schema, policy, operation, fragments, variables } = input;
  const rootType = schema.getRootType(operation.operation);
  if (!rootType) return [];
  // Subject ids come out distinct, in first-seen order.
  const asks: RootFieldAsk[] = [];
  for (const [responseKey, nodes] of collectFields(schema, fragments, variables, rootType, operation.selectionSet)) {
    const fieldName = nodes[0]!.name.value;
    if (!policy.subjectAccessFields.has(`${rootType.name}.${fieldName}`)) continue;
    const fieldDef = rootType.getFields()[fieldName]!;
    const args = getArgumentValues(fieldDef, nodes[0]!, variables);
    const ids = Array.isArray(args.ids) ? (args.ids as string[]) : [String(args.id)];
    const categories = new Set<string>();
    collectCategories(input, getNamedType(fieldDef.type), nodes, categories);
    asks.push({ responseKey, purpose: String(args.purpose), subjectIds: [...new Set(ids.map(String))], categories });
  }
  return asks;
}

function collectCategories(
  input: OperationInput,
  type: GraphQLNamedType,
  nodes: readonly FieldNode[],
  into: Set<string>,
): void {
  const { schema } = input;
  const objectTypes: readonly GraphQLObjectType[] = isObjectType(type)
    ? [type]
    : isAbstractType(type)
      ? schema.getPossibleTypes(type)
      : [];
  for (const objectType of objectTypes) {
    const subfields = collectSubfields(schema, input.fragments, input.variables, objectType, nodes);
    for (const fieldNodes of subfields.values()) {
      const fieldName = fieldNodes[0]!.name.value;
      const fieldDef = objectType.getFields()[fieldName];
      if (!fieldDef) continue; // __typename
      const category = input.policy.categoryOf.get(`${objectType.name}.${fieldName}`);
      if (category) into.add(category);
      collectCategories(input, getNamedType(fieldDef.type), fieldNodes, into);
    }
  }
}
