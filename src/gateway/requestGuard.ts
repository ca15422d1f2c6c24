import type { GraphQLRequestContextDidResolveOperation } from '@apollo/server';
import type { GatewayContext } from './context.js';

/**
 * One reason to refuse a request before anything is planned, read or
 * recorded: roles, rate, probing, input. A guard throws a typed error to
 * refuse; it never touches the store or the audit log.
 */
export interface RequestGuard {
  name: string;
  check(rc: GraphQLRequestContextDidResolveOperation<GatewayContext>): void | Promise<void>;
}
