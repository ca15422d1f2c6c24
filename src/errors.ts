/**
 * Every failure a caller can see is one of these classes. The `code` is the
 * stable, documented `extensions.code` (contract section 6); the message is for
 * people and never carries internals (SQL, stack traces, driver messages).
 */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'INSUFFICIENT_SCOPE'
  | 'CONSENT_REQUIRED'
  | 'PURPOSE_NOT_ALLOWED'
  | 'PARTNER_SUSPENDED'
  | 'QUERY_TOO_COMPLEX'
  | 'RATE_LIMITED'
  | 'BAD_USER_INPUT'
  | 'DOCUMENT_NOT_TRUSTED'
  | 'PERSISTED_QUERY_NOT_FOUND'
  | 'NOT_FOUND'
  | 'SERVICE_UNAVAILABLE'
  | 'SOURCE_UNAVAILABLE'
  | 'INTERNAL_SERVER_ERROR';

export abstract class ConsentryError extends Error {
  abstract readonly code: ErrorCode;
  /** HTTP status when the error decides the whole response. */
  readonly httpStatus: number = 200;
  /** Extra, safe, machine-readable facts (category, purpose, field...). */
  readonly details: Record<string, unknown>;

  constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    // `cause` is for logs, operators and test reports; error formatting never sends it to clients.
    super(message, options);
    this.name = new.target.name;
    this.details = details;
  }
}

/** The `error` of a WWW-Authenticate challenge (RFC 6750 section 3.1, RFC 9449 section 7.1). */
export type ChallengeError = 'invalid_request' | 'invalid_token' | 'invalid_dpop_proof';

export class UnauthenticatedError extends ConsentryError {
  readonly code = 'UNAUTHENTICATED';
  override readonly httpStatus = 401;

  /**
   * @param challengeError what the challenge names; null when no credential
   * was sent at all (RFC 6750 section 3.1: then no error code).
   */
  constructor(
    message: string,
    readonly challengeError: ChallengeError | null = 'invalid_token',
  ) {
    super(message);
  }
}

export class ForbiddenError extends ConsentryError {
  readonly code = 'FORBIDDEN';
}

export class InsufficientScopeError extends ConsentryError {
  readonly code = 'INSUFFICIENT_SCOPE';
}

export class ConsentRequiredError extends ConsentryError {
  readonly code = 'CONSENT_REQUIRED';
}

export class PurposeNotAllowedError extends ConsentryError {
  readonly code = 'PURPOSE_NOT_ALLOWED';
}

export class PartnerSuspendedError extends ConsentryError {
  readonly code = 'PARTNER_SUSPENDED';
  override readonly httpStatus = 403;
}

export class QueryTooComplexError extends ConsentryError {
  readonly code = 'QUERY_TOO_COMPLEX';
  override readonly httpStatus = 400;
}

export class RateLimitedError extends ConsentryError {
  readonly code = 'RATE_LIMITED';
  override readonly httpStatus = 429;
}

export class BadUserInputError extends ConsentryError {
  readonly code = 'BAD_USER_INPUT';
}

/**
 * The request itself is malformed (an over-long id, a control character, a
 * lone surrogate) and was refused whole, at the edge, before it could reach
 * the store or the audit log.
 */
export class MalformedInputError extends ConsentryError {
  readonly code = 'BAD_USER_INPUT';
  override readonly httpStatus = 400;
}

/**
 * A purpose that is not in the purpose registry. Refused at validation, before
 * anything is decided or recorded, with the valid purposes so that a typo is
 * a fix at the partner's desk rather than a PURPOSE_NOT_ALLOWED at run time.
 */
export class UnknownPurposeError extends ConsentryError {
  readonly code = 'BAD_USER_INPUT';
  override readonly httpStatus = 400;
  constructor(given: string, validPurposes: readonly string[], where: string) {
    // Only a bounded, printable excerpt of what was sent goes back.
    const shown = JSON.stringify(given.length > 64 ? `${given.slice(0, 64)}…` : given);
    super(`Unknown purpose ${shown} in ${where}. Valid purposes: ${validPurposes.join(', ')}.`, { argument: where, validPurposes: [...validPurposes] });
  }
}

/** A partner registered for trusted documents only sent a document that is not one of its registered ones. */
export class DocumentNotTrustedError extends ConsentryError {
  readonly code = 'DOCUMENT_NOT_TRUSTED';
  override readonly httpStatus = 400;
}

/** A document id (or persisted-query hash) that is not registered for this partner. */
export class PersistedDocumentNotFoundError extends ConsentryError {
  readonly code = 'PERSISTED_QUERY_NOT_FOUND';
  override readonly httpStatus = 400;
}

export class NotFoundError extends ConsentryError {
  readonly code = 'NOT_FOUND';
}

/** The store or the audit log cannot be reached; nothing was released. */
export class StoreUnavailableError extends ConsentryError {
  readonly code = 'SERVICE_UNAVAILABLE';
  override readonly httpStatus = 503;
  constructor(cause?: unknown) {
    super('The data store is unavailable; nothing was released. Try again shortly.', {}, { cause });
  }
}

export class AuditUnavailableError extends ConsentryError {
  readonly code = 'SERVICE_UNAVAILABLE';
  override readonly httpStatus = 503;
  constructor(cause?: unknown) {
    super('The audit log could not record this request; nothing was released. Try again shortly.', {}, { cause });
  }
}

/**
 * The upstream score service failed after the release decision and its audit
 * commit (deadline, connection, 5xx, malformed answer, or the circuit open).
 * Only the released fields it should have filled are null; denials and other
 * fields still answer, so the request is not 503 as a whole.
 */
export class SourceUnavailableError extends ConsentryError {
  readonly code = 'SOURCE_UNAVAILABLE';
  constructor(
    readonly reason: SourceFailureReason,
    cause?: unknown,
  ) {
    super('The score service could not be reached; this field was released but not fetched. Try again shortly.', { reason }, { cause });
  }
}

/** Why an upstream fetch failed: the label of the failure metric and the audit event. */
export type SourceFailureReason = 'timeout' | 'connection' | 'http_status' | 'malformed' | 'graphql_errors' | 'circuit_open' | 'auth';

export function isConsentryError(err: unknown): err is ConsentryError {
  return err instanceof ConsentryError;
}
