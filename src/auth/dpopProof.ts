import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, EmbeddedJWK, errors as joseErrors, jwtVerify, type JWK } from 'jose';
import type { Clock } from '../clock.js';
import { UnauthenticatedError } from '../errors.js';
import type { ProofReplayCache } from './proofReplayCache.js';
import { ASSERTION_ALGORITHMS } from './algorithms.js';

/** Asymmetric only (RFC 9449 section 4.2); the same set client assertions may use. */
export const DPOP_ALGORITHMS = ASSERTION_ALGORITHMS;
/**
 * A proof is accepted for a minute after its `iat` (and 10 s before, for
 * clock skew). Short, because a proof captured with its request is usable
 * only for this long, and its `jti` has to be remembered exactly as long.
 */
export const DPOP_PROOF_MAX_AGE_SECONDS = 60;
const DPOP_FUTURE_SKEW_SECONDS = 10;
const MAX_JTI_LENGTH = 256;

/** A DPoP proof that failed a check: `invalid_dpop_proof` at both the token endpoint and the resource. */
export class InvalidDpopProofError extends UnauthenticatedError {
  constructor(message: string) {
    super(message, 'invalid_dpop_proof');
  }
}

export interface ProofExpectation {
  /** The request's method and URL (its query and fragment are ignored, RFC 9449 section 4.3). */
  method: string;
  url: string;
  /** At a resource: the access token the proof must hash in `ath`. */
  accessToken?: string;
}

/** base64url(SHA-256(token)): the proof's `ath`, binding it to one access token. */
export const accessTokenHash = (token: string): string => createHash('sha256').update(token, 'ascii').digest('base64url');

/**
 * Checks a DPoP proof (RFC 9449 section 4.3) and returns the JWK thumbprint
 * of its key. The `jti` is recorded last, only for a proof that passed every
 * other check, so garbage cannot fill the replay cache.
 */
export class DpopProofVerifier {
  constructor(
    private readonly replay: ProofReplayCache,
    private readonly clock: Clock,
  ) {}

  async verify(header: string | string[] | undefined, expected: ProofExpectation): Promise<{ jkt: string }> {
    if (Array.isArray(header)) throw new InvalidDpopProofError('Send exactly one DPoP header.');
    if (!header) throw new InvalidDpopProofError('A DPoP proof is required.');
    const now = this.clock();
    let payload;
    let jwk: JWK;
    try {
      const verified = await jwtVerify(header, EmbeddedJWK, {
        typ: 'dpop+jwt',
        algorithms: DPOP_ALGORITHMS,
        currentDate: now,
        requiredClaims: ['iat', 'jti', 'htm', 'htu'],
      });
      payload = verified.payload;
      jwk = verified.protectedHeader.jwk!;
    } catch (err) {
      throw new InvalidDpopProofError(describeProofFailure(err));
    }
    if (payload.htm !== expected.method) throw new InvalidDpopProofError('The DPoP proof is for another HTTP method (htm).');
    if (typeof payload.htu !== 'string' || withoutQuery(payload.htu) !== withoutQuery(expected.url)) {
      throw new InvalidDpopProofError('The DPoP proof is for another URL (htu).');
    }
    const nowSeconds = Math.floor(now.getTime() / 1000);
    const iat = payload.iat!;
    if (iat > nowSeconds + DPOP_FUTURE_SKEW_SECONDS || iat < nowSeconds - DPOP_PROOF_MAX_AGE_SECONDS) {
      throw new InvalidDpopProofError(`The DPoP proof is not fresh: its iat must be within ${DPOP_PROOF_MAX_AGE_SECONDS} seconds of the server's time.`);
    }
    if (typeof payload.jti !== 'string' || !payload.jti || payload.jti.length > MAX_JTI_LENGTH) {
      throw new InvalidDpopProofError('The DPoP proof needs a jti of at most 256 characters.');
    }
    if (expected.accessToken !== undefined && payload.ath !== accessTokenHash(expected.accessToken)) {
      throw new InvalidDpopProofError('The DPoP proof is not for this access token (ath).');
    }
    const jkt = await calculateJwkThumbprint(jwk, 'sha256');
    const expiresAt = new Date((iat + DPOP_PROOF_MAX_AGE_SECONDS + DPOP_FUTURE_SKEW_SECONDS) * 1000);
    // Keyed by key and jti: two clients' jtis never collide, and the key bounds the length.
    const proofKey = createHash('sha256').update(`${jkt}.${payload.jti}`).digest('base64url');
    if (!(await this.replay.remember(proofKey, expiresAt))) throw new InvalidDpopProofError('This DPoP proof (jti) has already been used.');
    return { jkt };
  }
}

/** RFC 9449 section 4.3 compares htu without query and fragment, after URL normalisation (RFC 3986 section 6). */
function withoutQuery(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    parsed.search = '';
    parsed.hash = '';
    return parsed.href;
  } catch {
    return undefined;
  }
}

function describeProofFailure(err: unknown): string {
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'The DPoP proof algorithm is not accepted; use an asymmetric algorithm.';
  if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'typ') return 'The DPoP proof must have the header typ dpop+jwt.';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `The DPoP proof's "${err.claim}" claim is missing or not acceptable.`;
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'The DPoP proof signature does not verify with its jwk.';
  if (err instanceof joseErrors.JWTExpired) return 'The DPoP proof has expired.';
  return 'The DPoP proof is malformed: it must be a JWT of typ dpop+jwt carrying its public key in jwk.';
}
