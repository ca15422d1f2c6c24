import type { ApolloServerPlugin } from '@apollo/server';
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { GraphQLError, validate, type DocumentNode, type GraphQLSchema, type ValidationRule } from 'graphql';
import { QueryTooComplexError } from '../../errors.js';
import type { GatewayContext } from '../context.js';
import { toGraphQLError } from '../toGraphQLError.js';

export interface QueryLimits {
  maxDepth: number;
  maxAliases: number;
  maxDirectives: number;
  maxCost: number;
}

/** Generous for any real partner query (a 1,000-subject batch with every category fits). */
export const DEFAULT_QUERY_LIMITS: QueryLimits = { maxDepth: 8, maxAliases: 30, maxDirectives: 50, maxCost: 5000 };

/**
 * Depth, alias, directive and cost limits (graphql-armor's rules), checked
 * after Apollo's own validation and reported as QUERY_TOO_COMPLEX with HTTP 400
 * rather than as a generic validation failure. Subject list size is checked
 * where the plan counts subjects.
 */
export function queryLimitsPlugin(limits: QueryLimits = DEFAULT_QUERY_LIMITS): ApolloServerPlugin<GatewayContext> {
  const common = { propagateOnRejection: true, exposeLimits: true } as const;
  const rules: ValidationRule[] = [
    maxDepthRule({ n: limits.maxDepth, ...common }),
    maxAliasesRule({ n: limits.maxAliases, ...common }),
    maxDirectivesRule({ n: limits.maxDirectives, ...common }),
    costLimitRule({ maxCost: limits.maxCost, ...common }),
  ] as unknown as ValidationRule[];
  // Apollo hands the same DocumentNode back for a repeated query string, so a
  // document's verdict is computed once: partners send the same few queries.
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
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document }) {
          let problem = verdicts.get(document);
          if (problem === undefined) {
            problem = verdict(schema, document);
            verdicts.set(document, problem);
          }
          if (problem) throw toGraphQLError(new QueryTooComplexError(problem));
        },
      };
    },
  };
}
