import { createLocalJWKSet, decodeJwt, errors as joseErrors, jwtVerify, type JSONWebKeySet } from 'jose';
import type { Clock } from '../clock.js';
import { MAX_ID_LENGTH, stringProblem } from '../inputStrings.js';
import type { Database } from '../store/database.js';
import { findPartner, recordTokenIssued } from '../store/partners.js';
import { ASSERTION_ALGORITHMS } from './algorithms.js';
import { InvalidDpopProofError, type DpopProofVerifier } from './dpopProof.js';
import type { GatewayTokens } from './gatewayTokens.js';

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** RFC 7523 leaves the bound to us; five minutes, as the contract says. */
export const MAX_ASSERTION_LIFETIME_SECONDS = 5 * 60;
const CLOCK_SKEW_SECONDS = 30;

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'invalid_scope'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_dpop_proof';

export interface OAuthResponse {
  status: number;
  body: Record<string, unknown>;
}

export interface TokenEndpointDeps {
  db: Database;
  tokens: GatewayTokens;
  clock: Clock;
  issuer: string;
  tokenEndpointUrl: string;
  dpop: DpopProofVerifier;
  /** The request's DPoP header(s), if any (RFC 9449 section 5). */
  dpopProof?: string | string[];
}

const oauthError = (status: number, error: OAuthErrorCode, description: string): OAuthResponse => ({
  status,
  body: { error, error_description: description },
});

/**
 * OAuth 2.0 client_credentials with private_key_jwt client authentication
 * (RFC 6749 section 4.4, RFC 7523 section 2.2). Transport-free: takes the
 * decoded form, returns status and RFC 6749 JSON.
 */
export async function handleTokenRequest(form: Record<string, unknown>, deps: TokenEndpointDeps): Promise<OAuthResponse> {
  // RFC 6749 section 3.2: parameters MUST NOT be included more than once; a second scope is not a wider one.
  const repeated = Object.keys(form).find((name) => Array.isArray(form[name]));
  if (repeated) return oauthError(400, 'invalid_request', `The parameter "${repeated}" must not be repeated.`);
  const field = (name: string) => (typeof form[name] === 'string' ? (form[name] as string) : undefined);
  const grantType = field('grant_type');
  if (!grantType) return oauthError(400, 'invalid_request', 'grant_type is required.');
  if (grantType !== 'client_credentials') return oauthError(400, 'unsupported_grant_type', 'Only client_credentials is supported.');
  if (field('client_assertion_type') !== CLIENT_ASSERTION_TYPE) {
    return oauthError(400, 'invalid_request', `client_assertion_type must be ${CLIENT_ASSERTION_TYPE}.`);
  }
  const assertion = field('client_assertion');
  if (!assertion) return oauthError(400, 'invalid_request', 'client_assertion is required.');

  let clientId: string;
  try {
    const claims = decodeJwt(assertion);
    if (typeof claims.iss !== 'string' || claims.iss !== claims.sub) {
      return oauthError(401, 'invalid_client', 'The assertion must have iss equal to sub, both the client id.');
    }
    if (stringProblem(claims.iss, MAX_ID_LENGTH)) return oauthError(401, 'invalid_client', 'Unknown client.');
    clientId = claims.iss;
  } catch {
    return oauthError(400, 'invalid_request', 'client_assertion is not a JWT.');
  }
  const formClientId = field('client_id');
  if (formClientId && formClientId !== clientId) return oauthError(401, 'invalid_client', 'client_id does not match the assertion.');

  const partner = await findPartner(deps.db, clientId);
  if (!partner) return oauthError(401, 'invalid_client', 'Unknown client.');

  const now = deps.clock();
  let payload;
  try {
    ({ payload } = await jwtVerify(assertion, createLocalJWKSet(partner.jwks as JSONWebKeySet), {
      algorithms: ASSERTION_ALGORITHMS,
      issuer: clientId,
      subject: clientId,
      audience: [deps.tokenEndpointUrl, deps.issuer],
      currentDate: now,
      clockTolerance: CLOCK_SKEW_SECONDS,
      requiredClaims: ['exp', 'jti'],
    }));
  } catch (err) {
    return oauthError(401, 'invalid_client', describeAssertionFailure(err));
  }
  const nowSeconds = Math.floor(now.getTime() / 1000);
  if (payload.exp! - nowSeconds > MAX_ASSERTION_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS) {
    return oauthError(401, 'invalid_client', `The assertion must expire within ${MAX_ASSERTION_LIFETIME_SECONDS} seconds.`);
  }
  // jose checks iat only together with a maximum age; an assertion "issued" in the future is not yet valid.
  if (typeof payload.iat === 'number' && payload.iat > nowSeconds + CLOCK_SKEW_SECONDS) {
    return oauthError(401, 'invalid_client', 'The assertion\'s "iat" claim is in the future.');
  }
  if (typeof payload.jti !== 'string' || !payload.jti) return oauthError(401, 'invalid_client', 'The assertion needs a jti.');
  if (stringProblem(payload.jti, MAX_ID_LENGTH)) return oauthError(401, 'invalid_client', 'The assertion\'s jti is not acceptable.');

  // Recording the jti before anything else is issued makes a replay fail even when two copies race.
  const fresh = await deps.db.query(
    `INSERT INTO used_assertions (client_id, jti, expires_at) VALUES ($1, $2, $3)
     ON CONFLICT DO NOTHING RETURNING jti`,
    [clientId, payload.jti, new Date((payload.exp! + CLOCK_SKEW_SECONDS) * 1000)],
  );
  if (!fresh.length) return oauthError(401, 'invalid_client', 'This assertion (jti) has already been used.');

  if (partner.status !== 'active') return oauthError(400, 'unauthorized_client', 'This client is suspended.');

  const requested = (field('scope') ?? '').split(' ').filter(Boolean);
  const granted = requested.length ? [...new Set(requested)] : partner.scopes;
  const outside = granted.filter((s) => !partner.scopes.includes(s));
  if (outside.length) return oauthError(400, 'invalid_scope', `Not approved for this client: ${outside.join(' ')}.`);
  if (!granted.length) return oauthError(400, 'invalid_scope', 'This client has no approved scopes.');

  // Checked after client authentication, so an unauthenticated caller cannot fill the proof replay cache.
  let jkt: string | undefined;
  if (deps.dpopProof !== undefined) {
    try {
      ({ jkt } = await deps.dpop.verify(deps.dpopProof, { method: 'POST', url: deps.tokenEndpointUrl }));
    } catch (err) {
      if (err instanceof InvalidDpopProofError) return oauthError(400, 'invalid_dpop_proof', err.message);
      throw err;
    }
  } else if (partner.dpop === 'required') {
    return oauthError(400, 'invalid_request', 'This client must send a DPoP proof (RFC 9449): its access tokens are sender-constrained.');
  }

  const { token, expiresIn, jti, issuedAt } = await deps.tokens.issueAccessToken(clientId, granted, jkt);
  // Recorded before the token leaves, so `partner show` never misses one that was handed out.
  await recordTokenIssued(deps.db, { partnerId: clientId, jti, scopes: granted, issuedAt, expiresAt: new Date(issuedAt.getTime() + expiresIn * 1000) });
  return { status: 200, body: { access_token: token, token_type: jkt ? 'DPoP' : 'Bearer', expires_in: expiresIn, scope: granted.join(' ') } };
}

/** Used assertions only matter until they expire; called periodically. */
export async function pruneUsedAssertions(db: Database, now: Date): Promise<void> {
  await db.query('DELETE FROM used_assertions WHERE expires_at < $1', [now]);
}

function describeAssertionFailure(err: unknown): string {
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'The assertion algorithm is not accepted; use an asymmetric algorithm.';
  if (err instanceof joseErrors.JWTExpired) return 'The assertion has expired.';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `The assertion's "${err.claim}" claim is not acceptable (${err.reason}).`;
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'The assertion is signed with a key not registered for this client.';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'The assertion signature is not valid.';
  if (err instanceof joseErrors.JWKSMultipleMatchingKeys) return 'The assertion does not identify its key (kid).';
  return 'The assertion could not be verified.';
}
