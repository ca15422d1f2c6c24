import { makeExecutableSchema } from '@graphql-tools/schema';
import { parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { loadTypeDefs } from '../../../src/gateway/buildSchema.js';
import { purposesInValue, purposeUsages } from '../../../src/gateway/purposeUsages.js';
import { knownPurposeRule } from '../../../src/gateway/rules/knownPurposeRule.js';
import { readSchemaPolicy } from '../../../src/gateway/schemaPolicy.js';

const schema = makeExecutableSchema({ typeDefs: loadTypeDefs() });
const { purposeInputs } = readSchemaPolicy(schema);
const validPurposes = ['deposit_waiver', 'post_pay'];

describe('where purposes are named', () => {
  it('reads the @purpose positions from the SDL', () => {
    expect([...purposeInputs].sort()).toEqual(['ConsentRequestInput.purpose', 'Query.subject(purpose:)', 'Query.subjects(purpose:)']);
  });

  it('finds literals and variables at those positions, through fragments and input objects, and nothing else', () => {
    const usages = purposeUsages(
      schema,
      purposeInputs,
      parse(`query($p: String!, $id: ID!) {
        a: subject(id: $id, purpose: "post_pay") { id }
        b: subjects(ids: ["x"], purpose: $p) { id }
        consentRequest(id: "deposit_waiver") { purpose }
      }
      mutation M($q: String!) { requestConsent(input: {subjectId: "s", purpose: $q, categories: ["score.band"], durationDays: 1}) { id } }`),
    );
    expect({ literals: usages.literals.map((l) => [l.value, l.where]), variables: usages.variables }).toEqual({
      literals: [['post_pay', 'Query.subject(purpose:)']],
      variables: [
        { name: 'p', where: 'Query.subjects(purpose:)' },
        { name: 'q', where: 'ConsentRequestInput.purpose' },
      ],
    });
  });

  it('finds purposes inside an input object variable by its type', () => {
    const input = schema.getMutationType()!.getFields().requestConsent!.args[0]!.type;
    expect(purposesInValue(input, { subjectId: 's', purpose: 'marketing', categories: [] }, purposeInputs, '$input')).toEqual([{ value: 'marketing', where: '$input.purpose' }]);
  });
});

describe('knownPurposeRule', () => {
  it.each([
    ['a registered purpose', '{ subject(id: "a", purpose: "post_pay") { id } }', []],
    ['an unknown purpose', '{ subject(id: "a", purpose: "post-pay") { id } }', ['Unknown purpose "post-pay" in Query.subject(purpose:). Valid purposes: deposit_waiver, post_pay.']],
    ['a variable (left to the guard)', 'query($p: String!) { subject(id: "a", purpose: $p) { id } }', []],
    ['a purpose-like string elsewhere', '{ consentRequest(id: "post-pay") { id } }', []],
  ])('%s', (_name, query, messages) => {
    expect(validate(schema, parse(query), [knownPurposeRule({ positions: purposeInputs, validPurposes })]).map((e) => e.message)).toEqual(messages);
  });
});
