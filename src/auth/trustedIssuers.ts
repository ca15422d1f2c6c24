import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import type { Clock } from '../clock.js';
import type { TrustedIssuer } from '../config.js';
import { UnauthenticatedError } from '../errors.js';
import type { ExternalTokenVerifier } from './authenticate.js';
import { describeJoseFailure, parseRoles } from './gatewayTokens.js';

/** Asymmetric only; an issuer's tokens are never checked with a shared secret. */
const EXTERNAL_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/**
 * API tokens name the gateway (or the configured audience); ID tokens from
 * signing in to the pages name the gateway's client id at the issuer.
 */
function acceptedAudiences(issuer: TrustedIssuer, defaultAudience: string | undefined): string | string[] | undefined {
  const api = issuer.audience ?? defaultAudience;
  if (!issuer.clientId) return api;
  return api ? [api, issuer.clientId] : [issuer.clientId];
}

/**
 * Subject, compliance and admin tokens from trusted OpenID issuers. Each
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
        audience: acceptedAudiences(i, defaultAudience),
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
      try {
        const { payload } = await jwtVerify(token, entry.jwks, {
          issuer: iss,
          audience: entry.audience,
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
