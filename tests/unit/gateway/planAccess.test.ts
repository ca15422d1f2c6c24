import { makeExecutableSchema } from '@graphql-tools/schema';
import { Kind, parse, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { loadTypeDefs } from '../../../src/gateway/buildSchema.js';
import { planAccess } from '../../../src/gateway/planAccess.js';
import { readSchemaPolicy } from '../../../src/gateway/schemaPolicy.js';

const schema = makeExecutableSchema({ typeDefs: loadTypeDefs() });
const policy = readSchemaPolicy(schema);

function plan(source: string, variables: Record<string, unknown> = {}) {
  const document = parse(source);
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  const fragments = Object.fromEntries(
    document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]),
  );
  return planAccess({ schema, policy, operation, fragments, variables }).map((a) => ({ ...a, categories: [...a.categories].sort() }));
}

describe('planAccess', () => {
  it('reads the category of every field from the SDL', () => {
    expect(Object.fromEntries(policy.categoryOf)).toEqual({
      'Subject.identity': 'identity.verified',
      'ScoreSummary.atLeast': 'score.threshold',
      'ScoreSummary.band': 'score.band',
      'ScoreSummary.value': 'score.value',
      'ScoreSummary.dimensions': 'score.dimensions',
      'ScoreSummary.factors': 'score.factors',
      'ScoreSummary.history': 'score.history',
    });
    expect([...policy.subjectAccessFields].sort()).toEqual(['Query.subject', 'Query.subjects']);
  });

  it('lists each subject-reading root field by response key, with its purpose, subjects and categories', () => {
    expect(
      plan(`{
        a: subject(id: "s1", purpose: "deposit_waiver") { score { atLeast(threshold: 650) asOf } }
        b: subjects(ids: ["s1", "s2", "s1"], purpose: "post_pay") { id identity { verified } score { band } }
      }`),
    ).toEqual([
      { responseKey: 'a', purpose: 'deposit_waiver', subjectIds: ['s1'], categories: ['score.threshold'] },
      { responseKey: 'b', purpose: 'post_pay', subjectIds: ['s1', 's2'], categories: ['identity.verified', 'score.band'] },
    ]);
  });

  it('follows named and inline fragments, including fragments on the root type', () => {
    expect(
      plan(`
        query { ...Root }
        fragment Root on Query { subject(id: "s1", purpose: "p") { ... on Subject { score { ...Bits } } } }
        fragment Bits on ScoreSummary { value ... on ScoreSummary { history { month } } }
      `),
    ).toEqual([{ responseKey: 'subject', purpose: 'p', subjectIds: ['s1'], categories: ['score.history', 'score.value'] }]);
  });

  it('resolves variables and honours @skip and @include as execution will', () => {
    expect(
      plan(
        `query ($ids: [ID!]!, $p: String!, $v: Boolean!) {
          subjects(ids: $ids, purpose: $p) { score { value @include(if: $v) band @skip(if: $v) factors { code } } }
        }`,
        { ids: ['x', 'y'], p: 'credit_underwriting', v: true },
      ),
    ).toEqual([{ responseKey: 'subjects', purpose: 'credit_underwriting', subjectIds: ['x', 'y'], categories: ['score.factors', 'score.value'] }]);
  });

  it('merges a field asked twice under one response key', () => {
    expect(plan(`{ subject(id: "s", purpose: "p") { score { band } } subject(id: "s", purpose: "p") { score { value } } }`)).toEqual([
      { responseKey: 'subject', purpose: 'p', subjectIds: ['s'], categories: ['score.band', 'score.value'] },
    ]);
  });

  it('ignores root fields that read no subjects', () => {
    expect(plan(`{ myConsents { id } }`)).toEqual([]);
  });
});
