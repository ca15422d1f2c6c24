import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import type { Clock } from '../clock.js';
import type { TrustedIssuer } from '../config.js';
import { UnauthenticatedError } from '../errors.js';
import type { ExternalTokenVerifier } from './authenticate.js';
import { describeJoseFailure, parseRoles } from './gatewayTokens.js';

/** Asymmetric only; an issuer's tokens are never checked with a shared secret. */
const EXTERNAL_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** RFC 9068 section 4: a resource server checks that a JWT access token says it is one. */
const ACCESS_TOKEN_TYPES = ['at+jwt', 'application/at+jwt'];

/**
 * Subject, compliance and admin access tokens from trusted OpenID issuers. Each
 * issuer's JWKS is fetched by jose's remote key set: cached, and refetched
 * (rate-limited) when a token names a `kid` it has not seen, so issuer key
 * rotation needs no restart. Issuer, audience and algorithms are pinned.
 */
export function createExternalVerifier(
  issuers: readonly TrustedIssuer[],
  clock: Clock,
  defaultAudience?: string,
): ExternalTokenVerifier | undefined {
  if (!issuers.length) return undefined;
  const byIssuer = new Map(
    issuers.map((i) => [
      i.issuer,
      {
        jwks: createRemoteJWKSet(new URL(i.jwksUri), { cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 }),
        // API tokens name the gateway (or the configured audience), never the gateway's client id at the issuer:
        // that is an ID token's audience, and an ID token says who signed in, not what may be called.
        audience: i.audience ?? defaultAudience,
      },
    ]),
  );
  return {
    async verify(token) {
      let iss: string | undefined;
      try {
        iss = decodeJwt(token).iss;
      } catch {
        return undefined;
      }
      const entry = iss ? byIssuer.get(iss) : undefined;
      if (!entry || !iss) return undefined;
      const typ = String(decodeProtectedHeader(token).typ ?? '').toLowerCase();
      if (!ACCESS_TOKEN_TYPES.includes(typ)) {
        throw new UnauthenticatedError('Only access tokens (typ at+jwt, RFC 9068) are accepted as bearer tokens; an ID token is not one.');
      }
      try {
        const { payload } = await jwtVerify(token, entry.jwks, {
          issuer: iss,
          audience: entry.audience,
          typ,
          algorithms: EXTERNAL_ALGORITHMS,
          currentDate: clock(),
          requiredClaims: ['exp', 'sub'],
        });
        return { kind: 'user', sub: payload.sub!, roles: parseRoles(payload.roles), issuer: iss };
      } catch (err) {
        if (err instanceof UnauthenticatedError) throw err;
        throw new UnauthenticatedError(describeJoseFailure(err));
      }
    },
  };
}
