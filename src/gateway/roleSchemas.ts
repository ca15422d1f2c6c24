import { createHash } from 'node:crypto';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { getDirective, MapperKind, mapSchema, printSchemaWithDirectives, pruneSchema } from '@graphql-tools/utils';
import type { GraphQLFieldConfig, GraphQLSchema } from 'graphql';
import type { Role } from '../auth/principal.js';
import { loadTypeDefs } from './buildSchema.js';

/**
 * Directives that steer enforcement inside the gateway. They say nothing a
 * client can act on (the role a field needs is the schema the role sees), so
 * the role schemas leave them and their `Role` enum out; `@category`,
 * `@releasedWithAny` and `@purpose` stay, because they tell a client what it
 * must be approved and consented for.
 */
const INTERNAL_DIRECTIVES = new Set(['requiresRole', 'subjectAccess']);

/**
 * What each role may call, as a schema of its own: the root fields whose
 * `@requiresRole` names one of the roles, and the types they reach. Built
 * once per role set at start-up; introspection runs against these, and the
 * partner's is the published SDL (`GET /schema/partner.graphql`).
 */
export class RoleSchemas {
  private readonly byRoles = new Map<string, GraphQLSchema>();
  readonly partner: GraphQLSchema;
  /** The partner SDL as published: with descriptions and client-facing directives. */
  readonly partnerSdl: string;
  /** A strong validator of the published SDL, for `ETag`. */
  readonly partnerSdlTag: string;

  constructor(typeDefs: string[] = loadTypeDefs()) {
    const base = makeExecutableSchema({ typeDefs });
    // Every combination a caller can hold: a partner, or any set of the user roles.
    for (const roles of [['partner'], ...subsets(['subject', 'compliance', 'admin'])] as Role[][]) {
      this.byRoles.set(keyOf(roles), schemaForRoles(base, roles));
    }
    this.partner = this.byRoles.get('partner')!;
    this.partnerSdl = `${printSchemaWithDirectives(this.partner)}\n`;
    this.partnerSdlTag = `"${createHash('sha256').update(this.partnerSdl).digest('base64url')}"`;
  }

  /** The schema for a caller holding these roles; none (or an unknown set) gets nothing. */
  forRoles(roles: Iterable<Role>): GraphQLSchema | undefined {
    return this.byRoles.get(keyOf([...roles]));
  }
}

function schemaForRoles(base: GraphQLSchema, roles: readonly Role[]): GraphQLSchema {
  const allowed = (field: GraphQLFieldConfig<unknown, unknown>) => {
    const required = (getDirective(base, field, 'requiresRole')?.[0]?.roles ?? []) as Role[];
    return required.some((r) => roles.includes(r));
  };
  const narrowed = mapSchema(base, {
    [MapperKind.ROOT_FIELD]: (field) => (allowed(field) ? withoutInternalDirectives(field) : null),
    [MapperKind.DIRECTIVE]: (directive) => (INTERNAL_DIRECTIVES.has(directive.name) ? null : directive),
  });
  return pruneSchema(narrowed);
}

function withoutInternalDirectives(field: GraphQLFieldConfig<unknown, unknown>): GraphQLFieldConfig<unknown, unknown> {
  if (!field.astNode?.directives?.length) return field;
  return { ...field, astNode: { ...field.astNode, directives: field.astNode.directives.filter((d) => !INTERNAL_DIRECTIVES.has(d.name.value)) } };
}

function keyOf(roles: readonly Role[]): string {
  return [...new Set(roles)].sort().join(',');
}

function subsets<T>(items: readonly T[]): T[][] {
  return items.reduce<T[][]>((all, item) => [...all, ...all.map((s) => [...s, item])], [[]]).filter((s) => s.length > 0);
}
