import type { GraphQLFormattedError } from 'graphql';
import { isConsentryError, type ConsentryError } from '../errors.js';

/** Codes Apollo itself produces for malformed requests; safe to show as they are. */
const CLIENT_ERROR_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);

/**
 * Whether an error is one we meant to send (a typed error, or Apollo's own
 * answer to a malformed request). Anything else is a fault: masked here,
 * logged with the request id by the error-logging plugin.
 */
export function isExpectedError(error: unknown, code: unknown): boolean {
  return !!typedCause(error) || (typeof code === 'string' && CLIENT_ERROR_CODES.has(code));
}

/**
 * Error hygiene at the edge: typed errors keep their code and safe details;
 * anything unexpected becomes a generic internal error, so no SQL, stack
 * trace or driver message reaches a client outside development.
 */
export function createFormatError(development: boolean) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = typedCause(error);
    if (original) {
      return {
        message: original.message,
        locations: formatted.locations,
        path: formatted.path,
        extensions: { code: original.code, ...original.details },
      };
    }
    const code = formatted.extensions?.code;
    if (isExpectedError(error, code)) {
      return { message: formatted.message, locations: formatted.locations, path: formatted.path, extensions: { code } };
    }
    return {
      message: development ? formatted.message : 'Internal server error',
      path: formatted.path,
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  };
}

/** The typed error behind a GraphQLError, however deeply resolvers and plugins wrapped it. */
function typedCause(error: unknown): ConsentryError | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { originalError?: unknown }).originalError, depth++) {
    if (isConsentryError(e)) return e;
  }
  return undefined;
}
