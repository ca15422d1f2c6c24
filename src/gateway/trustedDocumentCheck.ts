import { GraphQLError, Kind, parse, validate, specifiedRules, type DocumentNode, type GraphQLSchema } from 'graphql';
import type { DocumentCheck, DocumentChecker } from '../partners/trustedDocuments.js';
import { costLimitRules, documentLimitProblem } from './queryLimits.js';
import { knownPurposeRule } from './rules/knownPurposeRule.js';
import { readSchemaPolicy } from './schemaPolicy.js';

/**
 * How a partner's operation is checked when an operator registers it: the
 * document limits, then graphql-js validation against the partner schema with
 * the gateway's own rules (known purposes, cost). A document that would be
 * refused at run time is refused here, with each problem's line and column.
 */
export function trustedDocumentChecker(partnerSchema: GraphQLSchema, validPurposes: readonly string[]): DocumentChecker {
  const rules = [
    ...specifiedRules,
    knownPurposeRule({ positions: readSchemaPolicy(partnerSchema).purposeInputs, validPurposes }),
    ...costLimitRules(),
  ];
  return (text): DocumentCheck => {
    const limit = documentLimitProblem(text);
    if (limit) return { operationNames: [], problems: [limit] };
    let document: DocumentNode;
    try {
      document = parse(text);
    } catch (err) {
      if (err instanceof GraphQLError) return { operationNames: [], problems: [located(err)] };
      throw err;
    }
    const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
    const operationNames = operations.flatMap((o) => (o.name ? [o.name.value] : []));
    let errors: readonly GraphQLError[];
    try {
      errors = validate(partnerSchema, document, rules);
    } catch (err) {
      // graphql-armor throws its first rejection instead of reporting it.
      if (!(err instanceof GraphQLError)) throw err;
      errors = [err];
    }
    const problems = errors.map(located);
    if (!operations.length) problems.push('the document holds no operation');
    return { operationNames, problems };
  };
}

function located(err: GraphQLError): string {
  const message = err.message.replace(/^Syntax Error: /, 'syntax error: ');
  const at = err.locations?.[0];
  return at ? `line ${at.line}, column ${at.column}: ${message}` : message;
}
