import {
  GraphQLID,
  TypeInfo,
  getNamedType,
  isInputObjectType,
  isListType,
  isNonNullType,
  typeFromAST,
  visit,
  visitWithTypeInfo,
  type GraphQLInputType,
  type GraphQLSchema,
  type DocumentNode,
} from 'graphql';
import { MalformedInputError } from '../../errors.js';
import { MAX_ID_LENGTH, MAX_STRING_LENGTH, stringProblem } from '../../inputStrings.js';
import type { RequestGuard } from '../requestGuard.js';

/**
 * Every string argument, literal or variable, checked against inputStrings'
 * rules by its GraphQL type (ID or other), so that one request's malformed
 * value is refused with 400 before it can fail a statement shared with other
 * requests or land in an audit row that can never be deleted.
 */
export function inputHygieneGuard(): RequestGuard {
  // Apollo hands the same DocumentNode back for a repeated query string: check its literals once.
  const literalVerdicts = new WeakMap<DocumentNode, string | null>();
  return {
    name: 'inputHygiene',
    check({ schema, document, operation, request }) {
      let literalProblem = literalVerdicts.get(document);
      if (literalProblem === undefined) {
        literalProblem = literalStringProblem(schema, document) ?? null;
        literalVerdicts.set(document, literalProblem);
      }
      if (literalProblem) throw new MalformedInputError(literalProblem);
      for (const definition of operation?.variableDefinitions ?? []) {
        const name = definition.variable.name.value;
        const type = typeFromAST(schema, definition.type) as GraphQLInputType | undefined;
        const problem = type && valueProblem(type, request.variables?.[name], `$${name}`);
        if (problem) throw new MalformedInputError(problem, { argument: name });
      }
    },
  };
}

function maxLengthOf(type: GraphQLInputType | null | undefined): number {
  return type && getNamedType(type) === GraphQLID ? MAX_ID_LENGTH : MAX_STRING_LENGTH;
}

function literalStringProblem(schema: GraphQLSchema, document: DocumentNode): string | undefined {
  const typeInfo = new TypeInfo(schema);
  let problem: string | undefined;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      StringValue(node) {
        const why = stringProblem(node.value, maxLengthOf(typeInfo.getInputType()));
        if (!why) return undefined;
        const argument = typeInfo.getArgument()?.name;
        problem = `${argument ? `Argument "${argument}"` : 'A string value'} ${why}.`;
        return false;
      },
    }),
  );
  return problem;
}

function valueProblem(type: GraphQLInputType, value: unknown, path: string): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (isNonNullType(type)) return valueProblem(type.ofType, value, path);
  if (isListType(type)) {
    const items = Array.isArray(value) ? value : [value];
    for (let i = 0; i < items.length; i++) {
      const problem = valueProblem(type.ofType, items[i], `${path}[${i}]`);
      if (problem) return problem;
    }
    return undefined;
  }
  if (isInputObjectType(type)) {
    if (typeof value !== 'object') return undefined;
    for (const field of Object.values(type.getFields())) {
      const problem = valueProblem(field.type, (value as Record<string, unknown>)[field.name], `${path}.${field.name}`);
      if (problem) return problem;
    }
    return undefined;
  }
  if (typeof value !== 'string') return undefined;
  const why = stringProblem(value, maxLengthOf(type));
  return why && `Variable ${path} ${why}.`;
}
