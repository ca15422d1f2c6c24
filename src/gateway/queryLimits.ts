import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { LRUCache } from 'lru-cache';
import {
  GraphQLError,
  Kind,
  parse,
  type DocumentNode,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationRule,
} from 'graphql';

export interface QueryLimits {
  /** Lexical tokens, enforced while parsing: bounds the work of everything after it. */
  maxTokens: number;
  maxDepth: number;
  /** Every alias, `__typename` included, counted once per place execution would evaluate it. */
  maxAliases: number;
  /** Every directive occurrence, fragments counted once per spread. */
  maxDirectives: number;
  maxCost: number;
  /** Occurrences of one response key or one fragment spread within one selection set. */
  maxRepeats: number;
}

/**
 * Generous for any real partner query: a 1,000-subject batch with every
 * category, or 30 aliased subjects each with every category, fits in 5,000
 * tokens; the largest such document is about 140 KB (see the README).
 */
export const DEFAULT_QUERY_LIMITS: QueryLimits = { maxTokens: 5000, maxDepth: 8, maxAliases: 30, maxDirectives: 50, maxCost: 5000, maxRepeats: 3 };

/**
 * Why a query string is refused before Apollo parses and validates it, or
 * undefined. Runs at the HTTP edge: parsing stops at the token limit, and
 * the shape (aliases, directives, depth, repeated response keys) is counted
 * in one linear walk, because graphql-js's own validation is quadratic in
 * repeated fields (hundreds of `score { band }` cost it most of a second).
 */
export function documentLimitProblem(query: string, limits: QueryLimits = DEFAULT_QUERY_LIMITS): string | undefined {
  // Partners send the same few documents over and over: the verdict on a document is kept, not recomputed.
  const cacheable = limits === DEFAULT_QUERY_LIMITS && query.length <= MAX_REMEMBERED_QUERY_LENGTH;
  if (cacheable && verdicts.has(query)) return verdicts.get(query)!.problem;
  const problem = limitProblem(query, limits);
  if (cacheable) verdicts.set(query, { problem });
  return problem;
}

/** Verdicts on recent documents (a refused one included: a sender repeating it costs a lookup). */
const verdicts = new LRUCache<string, { problem: string | undefined }>({ max: 1000 });
/** Larger documents are checked each time: remembering them would let a sender fill memory with a few requests. */
const MAX_REMEMBERED_QUERY_LENGTH = 16 * 1024;

function limitProblem(query: string, limits: QueryLimits): string | undefined {
  let document: DocumentNode;
  try {
    document = parse(query, { maxTokens: limits.maxTokens, noLocation: true });
  } catch (err) {
    if (err instanceof GraphQLError && /tokens\. Parsing aborted/.test(err.message)) {
      return `Token limit of ${limits.maxTokens} exceeded.`;
    }
    return undefined; // Not a limit: Apollo reports the syntax error itself.
  }
  for (const shape of operationShapes(document)) {
    if (shape.aliases > limits.maxAliases) return `Aliases limit of ${limits.maxAliases} exceeded, found ${shape.aliases}.`;
    if (shape.directives > limits.maxDirectives) return `Directives limit of ${limits.maxDirectives} exceeded, found ${shape.directives}.`;
    if (shape.depth > limits.maxDepth) return `Query depth limit of ${limits.maxDepth} exceeded, found ${shape.depth}.`;
    if (shape.repeats > limits.maxRepeats) {
      return `A field or fragment may appear at most ${limits.maxRepeats} times in one selection set, found ${shape.repeats}.`;
    }
  }
  return undefined;
}

/** The cost limit (graphql-armor), checked after validation on the operation Apollo resolved. */
export function costLimitRules(limits: QueryLimits = DEFAULT_QUERY_LIMITS): ValidationRule[] {
  return [costLimitRule({ maxCost: limits.maxCost, propagateOnRejection: true, exposeLimits: true })] as unknown as ValidationRule[];
}

interface Shape {
  aliases: number;
  directives: number;
  /** Field nesting below the operation. */
  depth: number;
  /** The most times one response key or one fragment spread occurs in a single selection set. */
  repeats: number;
}

const EMPTY: Shape = { aliases: 0, directives: 0, depth: 0, repeats: 0 };

/**
 * The shape of each operation as execution would meet it: a fragment counts
 * again at every spread (memoised, so nested fragments are counted in linear
 * time); a fragment cycle counts as nothing here and is refused by
 * graphql-js's own NoFragmentCycles rule.
 */
export function operationShapes(document: DocumentNode): Shape[] {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const memo = new Map<string, Shape>();
  const fragmentShape = (name: string): Shape => {
    const known = memo.get(name);
    if (known) return known;
    memo.set(name, EMPTY);
    const fragment = fragments.get(name);
    const shape = fragment ? combine({ ...EMPTY, directives: fragment.directives?.length ?? 0 }, selectionShape(fragment.selectionSet)) : EMPTY;
    memo.set(name, shape);
    return shape;
  };
  const selectionShape = (set: SelectionSetNode | undefined): Shape => {
    const total = { ...EMPTY };
    const seen = new Map<string, number>();
    const see = (key: string) => {
      const n = (seen.get(key) ?? 0) + 1;
      seen.set(key, n);
      total.repeats = Math.max(total.repeats, n);
    };
    for (const selection of set?.selections ?? []) {
      total.directives += selection.directives?.length ?? 0;
      if (selection.kind === Kind.FIELD) {
        if (selection.alias) total.aliases += 1;
        see(`field:${(selection.alias ?? selection.name).value}`);
        const below = selectionShape(selection.selectionSet);
        // `__Type.ofType` unwraps one list or non-null: a chain without fan-out, nested seven deep by every
        // standard introspection query. Fields that fan out (types, fields, args) still count.
        combine(total, { ...below, depth: below.depth + (selection.name.value === 'ofType' ? 0 : 1) });
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        combine(total, selectionShape(selection.selectionSet));
      } else {
        see(`fragment:${selection.name.value}`);
        combine(total, fragmentShape(selection.name.value));
      }
    }
    return total;
  };
  return document.definitions.flatMap((d) =>
    d.kind === Kind.OPERATION_DEFINITION ? [combine({ ...EMPTY, directives: d.directives?.length ?? 0 }, selectionShape(d.selectionSet))] : [],
  );
}

function combine(into: Shape, more: Shape): Shape {
  into.aliases += more.aliases;
  into.directives += more.directives;
  into.depth = Math.max(into.depth, more.depth);
  into.repeats = Math.max(into.repeats, more.repeats);
  return into;
}
