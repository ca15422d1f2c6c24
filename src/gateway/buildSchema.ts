import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { MapperKind, mapSchema } from '@graphql-tools/utils';
import { defaultFieldResolver, type GraphQLFieldConfig, type GraphQLSchema } from 'graphql';
import type { IResolvers } from '@graphql-tools/utils';
import { releasedWithAny, type ReleaseDecision } from '../policy/releaseDecision.js';
import type { DecidedSubject } from './accessDecisions.js';
import { denialError } from './denialErrors.js';
import { readSchemaPolicy, type SchemaPolicy } from './schemaPolicy.js';

const SCHEMA_DIR = fileURLToPath(new URL('../schema/', import.meta.url));

export function loadTypeDefs(): string[] {
  return readdirSync(SCHEMA_DIR)
    .filter((f) => f.endsWith('.graphql'))
    .sort()
    .map((f) => readFileSync(SCHEMA_DIR + f, 'utf8'));
}

/**
 * The executable schema. Every field carrying @category or @releasedWithAny
 * gets its resolver wrapped once, here, so that it returns data only where
 * the decision made before execution released that category. A new field with
 * a new category needs an SDL line and a resolver, nothing in enforcement.
 */
export function buildGatewaySchema(resolvers: IResolvers[]): { schema: GraphQLSchema; policy: SchemaPolicy } {
  const base = makeExecutableSchema({ typeDefs: loadTypeDefs(), resolvers });
  const policy = readSchemaPolicy(base);
  const schema = mapSchema(base, {
    [MapperKind.OBJECT_FIELD]: (fieldConfig, fieldName, typeName) => {
      const coordinate = `${typeName}.${fieldName}`;
      const category = policy.categoryOf.get(coordinate);
      if (category) return guardField(fieldConfig, (d) => categoryGate(d, category));
      const prefix = policy.releasedWithAny.get(coordinate);
      if (prefix) return guardField(fieldConfig, (d) => familyGate(d, prefix));
      return fieldConfig;
    },
  });
  return { schema, policy };
}

type Gate = (decision: ReleaseDecision) => Error | undefined;

function guardField(config: GraphQLFieldConfig<unknown, unknown>, gate: Gate): GraphQLFieldConfig<unknown, unknown> {
  const resolve = config.resolve ?? defaultFieldResolver;
  return {
    ...config,
    resolve(parent, args, ctx, info) {
      const decision = (parent as DecidedSubject | undefined)?.decision;
      // A guarded field reached without a decision means planning missed it: fail closed.
      if (!decision) throw new Error(`no release decision for ${info.parentType.name}.${info.fieldName}`);
      const denied = gate(decision);
      if (denied) throw denied;
      return resolve(parent, args, ctx, info);
    },
  };
}

function categoryGate(decision: ReleaseDecision, category: string): Error | undefined {
  const d = decision.byCategory.get(category);
  if (!d) return new Error(`category ${category} was not planned`);
  return d.released ? undefined : denialError(d.code, decision.purpose, category);
}

function familyGate(decision: ReleaseDecision, prefix: string): Error | undefined {
  if (releasedWithAny(decision, prefix)) return undefined;
  const first = decision.denied.find((d) => d.category.startsWith(prefix));
  return denialError(first?.code ?? 'CONSENT_REQUIRED', decision.purpose, first?.category ?? `${prefix}*`);
}
