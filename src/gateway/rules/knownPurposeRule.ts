import { GraphQLError, type ValidationRule } from 'graphql';
import { UnknownPurposeError } from '../../errors.js';
import { purposeUsages, type PurposeCheck } from '../purposeUsages.js';

/**
 * Validation: every purpose written into the document as a literal must be a
 * registered one. Apollo keeps validated documents, so a partner's fixed
 * queries are checked once, not per request.
 */
export function knownPurposeRule(check: PurposeCheck): ValidationRule {
  const valid = new Set(check.validPurposes);
  return (context) => ({
    Document(document) {
      for (const literal of purposeUsages(context.getSchema(), check.positions, document).literals) {
        if (valid.has(literal.value)) continue;
        const err = new UnknownPurposeError(literal.value, check.validPurposes, literal.where);
        context.reportError(new GraphQLError(err.message, { nodes: [literal.node], originalError: err }));
      }
      return false;
    },
  });
}
