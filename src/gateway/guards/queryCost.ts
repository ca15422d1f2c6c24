import { GraphQLError, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { QueryTooComplexError } from '../../errors.js';
import { costLimitRules, type QueryLimits } from '../queryLimits.js';
import type { RequestGuard } from '../requestGuard.js';

/**
 * The cost limit (graphql-armor), on a document that already passed the
 * edge's cheap limits and Apollo's validation. Apollo hands the same
 * DocumentNode back for a repeated query string, so a document's verdict is
 * computed once: partners send the same few queries.
 */
export function queryCostGuard(limits: QueryLimits): RequestGuard {
  const rules = costLimitRules(limits);
  const verdicts = new WeakMap<DocumentNode, string | null>();
  const verdict = (schema: GraphQLSchema, document: DocumentNode): string | null => {
    let errors: readonly GraphQLError[];
    try {
      errors = validate(schema, document, rules);
    } catch (err) {
      // graphql-armor throws the first rejection when propagateOnRejection is set.
      if (!(err instanceof GraphQLError)) throw err;
      errors = [err];
    }
    return errors.length ? errors.map((e) => e.message.replace(/^Syntax Error: /, '')).join(' ') : null;
  };
  return {
    name: 'queryCost',
    check({ schema, document }) {
      let problem = verdicts.get(document);
      if (problem === undefined) {
        problem = verdict(schema, document);
        verdicts.set(document, problem);
      }
      if (problem) throw new QueryTooComplexError(problem);
    },
  };
}
