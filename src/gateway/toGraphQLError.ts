import { GraphQLError } from 'graphql';
import type { ConsentryError } from '../errors.js';

/** The GraphQL form of a typed error; `extensions.http` sets the status when it decides the whole response. */
export function toGraphQLError(err: ConsentryError): GraphQLError {
  return new GraphQLError(err.message, {
    originalError: err,
    extensions: { code: err.code, ...err.details, http: { status: err.httpStatus } },
  });
}
