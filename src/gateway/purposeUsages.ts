import {
  Kind,
  TypeInfo,
  getNamedType,
  isInputObjectType,
  isListType,
  isNonNullType,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type GraphQLInputType,
  type GraphQLSchema,
  type ValueNode,
} from 'graphql';

/** Where purposes are named (SchemaPolicy.purposeInputs) and which names the purpose registry holds. */
export interface PurposeCheck {
  positions: ReadonlySet<string>;
  validPurposes: readonly string[];
}

/** The purposes a document names: string literals, and variables passed straight to a purpose argument or field. */
export interface PurposeUsages {
  literals: { value: string; where: string; node: ValueNode }[];
  variables: { name: string; where: string }[];
}

/** Finds every value given at a `@purpose` position of the document, by schema coordinate. */
export function purposeUsages(schema: GraphQLSchema, positions: ReadonlySet<string>, document: DocumentNode): PurposeUsages {
  const usages: PurposeUsages = { literals: [], variables: [] };
  const note = (value: ValueNode, where: string) => {
    if (!positions.has(where)) return;
    if (value.kind === Kind.STRING) usages.literals.push({ value: value.value, where, node: value });
    else if (value.kind === Kind.VARIABLE) usages.variables.push({ name: value.name.value, where });
  };
  const typeInfo = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Argument(node) {
        const [parent, field, arg] = [typeInfo.getParentType(), typeInfo.getFieldDef(), typeInfo.getArgument()];
        if (typeInfo.getDirective() || !parent || !field || !arg) return;
        note(node.value, `${parent.name}.${field.name}(${arg.name}:)`);
      },
      ObjectField(node) {
        const parent = getNamedType(typeInfo.getParentInputType());
        if (parent) note(node.value, `${parent.name}.${node.name.value}`);
      },
    }),
  );
  return usages;
}

/** Purposes inside a variable's value, by its declared type (an input object carrying a `@purpose` field). */
export function purposesInValue(type: GraphQLInputType, value: unknown, positions: ReadonlySet<string>, path: string): { value: string; where: string }[] {
  if (value === null || value === undefined) return [];
  if (isNonNullType(type)) return purposesInValue(type.ofType, value, positions, path);
  if (isListType(type)) {
    return (Array.isArray(value) ? value : [value]).flatMap((item, i) => purposesInValue(type.ofType, item, positions, `${path}[${i}]`));
  }
  if (!isInputObjectType(type) || typeof value !== 'object') return [];
  return Object.values(type.getFields()).flatMap((field) => {
    const given = (value as Record<string, unknown>)[field.name];
    const where = `${path}.${field.name}`;
    if (positions.has(`${type.name}.${field.name}`) && typeof given === 'string') return [{ value: given, where }];
    return purposesInValue(field.type, given, positions, where);
  });
}
