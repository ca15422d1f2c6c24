import { typeFromAST, type DocumentNode, type GraphQLInputType } from 'graphql';
import { UnknownPurposeError } from '../../errors.js';
import { purposesInValue, purposeUsages, type PurposeCheck, type PurposeUsages } from '../purposeUsages.js';
import type { RequestGuard } from '../requestGuard.js';

/**
 * The other half of the known-purpose rule: purposes sent in variables, which
 * validation cannot see. Runs before every other guard that reads the store,
 * so an unknown purpose is refused (400) before any decision or audit work.
 */
export function knownPurposeVariablesGuard(check: PurposeCheck): RequestGuard {
  const valid = new Set(check.validPurposes);
  const usagesOf = new WeakMap<DocumentNode, PurposeUsages>();
  return {
    name: 'knownPurposeVariables',
    check({ schema, document, operation, request }) {
      if (!operation?.variableDefinitions?.length) return;
      let usages = usagesOf.get(document);
      if (!usages) usagesOf.set(document, (usages = purposeUsages(schema, check.positions, document)));
      const variables = request.variables ?? {};
      const given = usages.variables.flatMap(({ name }) => (typeof variables[name] === 'string' ? [{ value: variables[name] as string, where: `$${name}` }] : []));
      for (const definition of operation.variableDefinitions) {
        const name = definition.variable.name.value;
        const type = typeFromAST(schema, definition.type) as GraphQLInputType | undefined;
        if (type) given.push(...purposesInValue(type, variables[name], check.positions, `$${name}`));
      }
      const unknown = given.find((g) => !valid.has(g.value));
      if (unknown) throw new UnknownPurposeError(unknown.value, check.validPurposes, unknown.where);
    },
  };
}
