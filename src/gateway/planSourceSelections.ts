import { getNamedType, isAbstractType, isObjectType, type FieldNode, type GraphQLNamedType, type GraphQLObjectType } from 'graphql';
import { collectFields, collectSubfields } from 'graphql/execution/collectFields.js';
import { getArgumentValues } from 'graphql/execution/values.js';
import { MAX_HISTORY_MONTHS, type RootFieldSelection, type SelectedSourceField, type SourceField } from '../policy/sourceAsk.js';
import type { OperationInput } from './planAccess.js';

/** The schema coordinates a score source serves, and the name it knows each by. */
const SOURCE_FIELDS: ReadonlyMap<string, SourceField> = new Map([
  ['Subject.identity', 'identity'],
  ['ScoreSummary.atLeast', 'atLeast'],
  ['ScoreSummary.band', 'band'],
  ['ScoreSummary.value', 'value'],
  ['ScoreSummary.dimensions', 'dimensions'],
  ['ScoreSummary.factors', 'factors'],
  ['ScoreSummary.history', 'history'],
  ['ScoreSummary.asOf', 'asOf'],
  ['ScoreSummary.model', 'model'],
]);

/**
 * Per subject-reading root field, which source fields the operation selects
 * (walked as execution will, like planAccess) and the arguments a source
 * needs for them: the thresholds of `atLeast` and the longest `history`
 * window. With the decision, this is what minimisation asks the source for.
 */
export function planSourceSelections(input: OperationInput): Map<string, RootFieldSelection> {
  const { schema, policy, operation, fragments, variables } = input;
  const selections = new Map<string, RootFieldSelection>();
  const rootType = schema.getRootType(operation.operation);
  if (!rootType) return selections;
  for (const [responseKey, nodes] of collectFields(schema, fragments, variables, rootType, operation.selectionSet)) {
    const fieldName = nodes[0]!.name.value;
    if (!policy.subjectAccessFields.has(`${rootType.name}.${fieldName}`)) continue;
    const acc = { fields: new Map<SourceField, SelectedSourceField>(), thresholds: new Set<number>(), historyMonths: 0 };
    walk(input, getNamedType(rootType.getFields()[fieldName]!.type), nodes, acc);
    selections.set(responseKey, { fields: [...acc.fields.values()], thresholds: [...acc.thresholds], historyMonths: acc.historyMonths });
  }
  return selections;
}

interface Accumulator {
  fields: Map<SourceField, SelectedSourceField>;
  thresholds: Set<number>;
  historyMonths: number;
}

function walk(input: OperationInput, type: GraphQLNamedType, nodes: readonly FieldNode[], acc: Accumulator): void {
  const { schema, policy } = input;
  const objectTypes: readonly GraphQLObjectType[] = isObjectType(type) ? [type] : isAbstractType(type) ? schema.getPossibleTypes(type) : [];
  for (const objectType of objectTypes) {
    for (const fieldNodes of collectSubfields(schema, input.fragments, input.variables, objectType, nodes).values()) {
      const fieldDef = objectType.getFields()[fieldNodes[0]!.name.value];
      if (!fieldDef) continue; // __typename
      const coordinate = `${objectType.name}.${fieldDef.name}`;
      const field = SOURCE_FIELDS.get(coordinate);
      if (field) {
        const category = policy.categoryOf.get(coordinate);
        const prefix = policy.releasedWithAny.get(coordinate);
        acc.fields.set(field, { field, ...(category ? { category } : {}), ...(prefix ? { releasedWithAny: prefix } : {}) });
        // Each occurrence (alias) may carry its own arguments.
        for (const node of fieldNodes) {
          const args = getArgumentValues(fieldDef, node, input.variables);
          if (field === 'atLeast' && Number.isInteger(args.threshold)) acc.thresholds.add(args.threshold as number);
          const months = args.months;
          if (field === 'history' && Number.isInteger(months) && (months as number) >= 1 && (months as number) <= MAX_HISTORY_MONTHS) {
            acc.historyMonths = Math.max(acc.historyMonths, months as number);
          }
        }
      }
      if (field !== 'identity') walk(input, getNamedType(fieldDef.type), fieldNodes, acc);
    }
  }
}
