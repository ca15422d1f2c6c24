import type { OperationDefinitionNode } from 'graphql';

/** Distinct variable sets remembered per operation; past this the operation's variables change per request and nothing is kept. */
const MAX_VARIABLE_SETS = 8;

const byOperation = new WeakMap<OperationDefinitionNode, Map<string, unknown>>();

/**
 * `compute()` once per operation and variable values. Apollo hands every
 * request with the same document text the same parsed document, and a plan
 * (which categories of which subjects, which source fields) depends on
 * nothing but the operation, its variables and the schema, which is fixed
 * for the process. The value is shared between requests: never mutate it.
 */
export function memoByOperation<T>(operation: OperationDefinitionNode, variables: Record<string, unknown>, name: string, compute: () => T): T {
  let memo = byOperation.get(operation);
  if (!memo) byOperation.set(operation, (memo = new Map()));
  const key = `${name}\u0000${JSON.stringify(variables)}`;
  if (memo.has(key)) return memo.get(key) as T;
  if (memo.size >= MAX_VARIABLE_SETS) memo.clear();
  const value = compute();
  memo.set(key, value);
  return value;
}
