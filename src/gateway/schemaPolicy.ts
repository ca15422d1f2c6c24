import { getDirective } from '@graphql-tools/utils';
import { isInputObjectType, isObjectType, type GraphQLSchema } from 'graphql';
import type { Role } from '../auth/principal.js';

/**
 * What the SDL's directives declare, read once from the schema: the category
 * of each field, the fields released along with a category family, the root
 * fields that read subjects, and the roles each root field requires.
 * Coordinates are `Type.field`.
 */
export interface SchemaPolicy {
  categoryOf: ReadonlyMap<string, string>;
  releasedWithAny: ReadonlyMap<string, string>;
  subjectAccessFields: ReadonlySet<string>;
  requiredRoles: ReadonlyMap<string, readonly Role[]>;
  /** Arguments and input fields marked `@purpose`: their values must be registered purposes. */
  purposeInputs: ReadonlySet<string>;
}

export function readSchemaPolicy(schema: GraphQLSchema): SchemaPolicy {
  const categoryOf = new Map<string, string>();
  const releasedWithAny = new Map<string, string>();
  const subjectAccessFields = new Set<string>();
  const requiredRoles = new Map<string, Role[]>();
  const purposeInputs = new Set<string>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        if (getDirective(schema, field, 'purpose')?.[0]) purposeInputs.add(`${type.name}.${field.name}`);
      }
    }
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const coordinate = `${type.name}.${field.name}`;
      const category = getDirective(schema, field, 'category')?.[0];
      if (category) categoryOf.set(coordinate, category.name as string);
      const withAny = getDirective(schema, field, 'releasedWithAny')?.[0];
      if (withAny) releasedWithAny.set(coordinate, withAny.prefix as string);
      if (getDirective(schema, field, 'subjectAccess')?.[0]) subjectAccessFields.add(coordinate);
      const roles = getDirective(schema, field, 'requiresRole')?.[0];
      if (roles) requiredRoles.set(coordinate, roles.roles as Role[]);
      for (const arg of field.args) {
        if (getDirective(schema, arg, 'purpose')?.[0]) purposeInputs.add(`${coordinate}(${arg.name}:)`);
      }
    }
  }
  return { categoryOf, releasedWithAny, subjectAccessFields, requiredRoles, purposeInputs };
}
