import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, errors as joseErrors, jwtVerify, SignJWT, decodeProtectedHeader } from 'jose';
import type { Clock } from '../clock.js';
import { UnauthenticatedError } from '../errors.js';
import type { Principal, UserRole } from './principal.js';
import { USER_ROLES } from './principal.js';
import { SIGNING_ALG, type SigningKeys } from './signingKeys.js';

export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
export const ACCESS_TOKEN_TYPE = 'at+jwt';
/** Role tokens minted by `consentry token`: a distinct `typ`, so neither kind passes for the other. */
export const ROLE_TOKEN_TYPE = 'consentry-role+jwt';

/** Issues and verifies the tokens the gateway signs itself. */
/** Verified tokens remembered, so a partner's repeated requests skip the signature check. */
const VERIFIED_CACHE_SIZE = 10_000;

export class GatewayTokens {
  /** Importing keys costs more than verifying; reuse the key set until the published keys change. */
  private verifier?: { keys: unknown; jwks: ReturnType<typeof createLocalJWKSet> };
  /**
   * A token is immutable and its claims were checked when first seen; only its
   * expiry moves with the clock, and that is checked on every hit. Partner
   * state (suspension, scopes) is not cached here: the release decision reads
   * it from the store on every request.
   */
  private verified = new Map<string, { principal: Principal; expiresAtMs: number }>();

  constructor(
    private readonly keys: SigningKeys,
    private readonly issuer: string,
    private readonly clock: Clock,
  ) {}

  /** An RFC 9068 access token for a partner; bound to a DPoP key (RFC 9449 section 6) when `jkt` is given. */
  async issueAccessToken(
    clientId: string,
    scopes: readonly string[],
    jkt?: string,
  ): Promise<{ token: string; expiresIn: number; jti: string; issuedAt: Date }> {
    const key = await this.keys.signingKey();
    const now = Math.floor(this.clock().getTime() / 1000);
    const jti = randomUUID();
    const token = await new SignJWT({ scope: scopes.join(' '), client_id: clientId, ...(jkt ? { cnf: { jkt } } : {}) })
      .setProtectedHeader({ alg: SIGNING_ALG, kid: key.kid, typ: ACCESS_TOKEN_TYPE })
      .setIssuer(this.issuer)
      .setSubject(clientId)
      .setAudience(this.issuer)
      .setIssuedAt(now)
      .setExpirationTime(now + ACCESS_TOKEN_TTL_SECONDS)
      .setJti(jti)
      .sign(key.privateKey);
    return { token, expiresIn: ACCESS_TOKEN_TTL_SECONDS, jti, issuedAt: new Date(now * 1000) };
  }

  /** A subject, compliance or admin token (`consentry token`, sign-in outside production). */
  async issueRoleToken(sub: string, roles: readonly UserRole[], ttlSeconds: number): Promise<string> {
    const key = await this.keys.signingKey();
    const now = Math.floor(this.clock().getTime() / 1000);
    return new SignJWT({ roles: [...roles] })
      .setProtectedHeader({ alg: SIGNING_ALG, kid: key.kid, typ: ROLE_TOKEN_TYPE })
      .setIssuer(this.issuer)
      .setSubject(sub)
      .setAudience(this.issuer)
      .setIssuedAt(now)
      .setExpirationTime(now + ttlSeconds)
      .setJti(randomUUID())
      .sign(key.privateKey);
  }

  private async localJwks(): Promise<ReturnType<typeof createLocalJWKSet>> {
    const published = await this.keys.jwks();
    if (this.verifier?.keys !== published.keys) this.verifier = { keys: published.keys, jwks: createLocalJWKSet(published) };
    return this.verifier.jwks;
  }

  /**
   * Verifies a token the gateway issued. The algorithm, issuer, audience and
   * `typ` are pinned: a consent receipt, a partner's self-signed JWT or an
   * HS256 token forged with a public key as secret all fail here.
   */
  async verify(token: string): Promise<Principal> {
    const cached = this.verified.get(token);
    if (cached) {
      if (this.clock().getTime() < cached.expiresAtMs) return cached.principal;
      this.verified.delete(token);
    }
    const { principal, expiresAtMs } = await this.verifyUncached(token);
    if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, { principal, expiresAtMs });
    return principal;
  }

  private async verifyUncached(token: string): Promise<{ principal: Principal; expiresAtMs: number }> {
    let typ: unknown;
    try {
      typ = decodeProtectedHeader(token).typ;
    } catch {
      throw new UnauthenticatedError('The bearer token is malformed.');
    }
    if (typ !== ACCESS_TOKEN_TYPE && typ !== ROLE_TOKEN_TYPE) {
      throw new UnauthenticatedError('The bearer token is not an access token issued by this gateway.');
    }
    const jwks = await this.localJwks();
    try {
      const { payload } = await jwtVerify(token, jwks, {
        algorithms: [SIGNING_ALG],
        issuer: this.issuer,
        audience: this.issuer,
        typ: typ as string,
        currentDate: this.clock(),
        requiredClaims: ['exp', 'iat', 'sub'],
      });
      if (typ === ACCESS_TOKEN_TYPE) {
        if (typeof payload.client_id !== 'string' || payload.client_id !== payload.sub) {
          throw new UnauthenticatedError('The access token has no valid client_id.');
        }
        const scope = typeof payload.scope === 'string' ? payload.scope : '';
        const jkt = (payload.cnf as { jkt?: unknown } | undefined)?.jkt;
        return {
          expiresAtMs: payload.exp! * 1000,
          principal: {
            kind: 'partner',
            partnerId: payload.client_id,
            scopes: new Set(scope.split(' ').filter(Boolean)),
            tokenId: String(payload.jti ?? ''),
            ...(typeof jkt === 'string' ? { jkt } : {}),
          },
        };
      }
      return {
        expiresAtMs: payload.exp! * 1000,
        principal: { kind: 'user', sub: payload.sub!, roles: parseRoles(payload.roles), issuer: this.issuer },
      };
    } catch (err) {
      if (err instanceof UnauthenticatedError) throw err;
      throw new UnauthenticatedError(describeJoseFailure(err));
    }
  }
}

export function parseRoles(claim: unknown): ReadonlySet<UserRole> {
  if (!Array.isArray(claim)) throw new UnauthenticatedError('The token carries no roles claim.');
  const roles = claim.filter((r): r is UserRole => (USER_ROLES as readonly string[]).includes(r));
  if (!roles.length) throw new UnauthenticatedError('The token carries no role this gateway knows.');
  return new Set(roles);
}

/** A human-readable reason that names the failing check but never echoes the token. */
export function describeJoseFailure(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'The token has expired.';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `The token's "${err.claim}" claim is not acceptable (${err.reason}).`;
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'The token signature is not valid.';
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'The token is signed with an algorithm this gateway does not accept.';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'The token is signed with a key this gateway does not know.';
  return 'The token could not be verified.';
}
