import { makeExecutableSchema } from '@graphql-tools/schema';
import { Kind, parse, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { loadTypeDefs } from '../../../src/gateway/buildSchema.js';
import { planSourceSelections } from '../../../src/gateway/planSourceSelections.js';
import { readSchemaPolicy } from '../../../src/gateway/schemaPolicy.js';

const schema = makeExecutableSchema({ typeDefs: loadTypeDefs() });
const policy = readSchemaPolicy(schema);

function plan(source: string, variables: Record<string, unknown> = {}) {
  const document = parse(source);
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  const fragments = Object.fromEntries(
    document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]),
  );
  const selections = planSourceSelections({ schema, policy, operation, fragments, variables });
  return Object.fromEntries(
    [...selections].map(([key, s]) => [key, { fields: s.fields.map((f) => f.field).sort(), thresholds: [...s.thresholds].sort(), historyMonths: s.historyMonths }]),
  );
}

describe('planSourceSelections', () => {
  it('lists the source fields each root field selects, with every threshold and the longest history window', () => {
    expect(
      plan(
        `query Q($t: Int!, $skip: Boolean!) {
          a: subject(id: "s1", purpose: "deposit_waiver") { score { low: atLeast(threshold: 600) high: atLeast(threshold: $t) ...H } }
          b: subjects(ids: ["s2"], purpose: "post_pay") { identity { verified } score { band @skip(if: $skip) model } }
        }
        fragment H on ScoreSummary { history(months: 3) long: history(months: 24) }`,
        { t: 700, skip: true },
      ),
    ).toEqual({
      a: { fields: ['atLeast', 'history'], thresholds: [600, 700], historyMonths: 24 },
      b: { fields: ['identity', 'model'], thresholds: [], historyMonths: 0 },
    });
  });

  it('ignores a history window the resolver would refuse', () => {
    expect(plan(`{ subject(id: "s1", purpose: "p") { score { history(months: 500) } } }`)).toEqual({
      subject: { fields: ['history'], thresholds: [], historyMonths: 0 },
    });
  });
});
