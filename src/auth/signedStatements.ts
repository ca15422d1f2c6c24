import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import type { Clock } from '../clock.js';
import { SIGNING_ALG, type SigningKeys } from './signingKeys.js';

/**
 * What the gateway signs for itself and reads back: never accepted as an API
 * credential, because GatewayTokens pins other `typ`s and these pin theirs.
 * - a page session after OpenID sign-in (the ID token is never stored as one);
 * - a pending OpenID authorization (state, nonce, PKCE verifier) while the
 *   browser is at the provider, so the callback cannot be fed forged values.
 */
export type StatementType = 'consentry-session+jwt' | 'consentry-oidc-pending+jwt';

export class SignedStatements {
  constructor(
    private readonly keys: SigningKeys,
    private readonly issuer: string,
    private readonly clock: Clock,
  ) {}

  async sign(typ: StatementType, claims: Record<string, unknown>, expiresAt: Date): Promise<string> {
    const key = await this.keys.signingKey();
    return new SignJWT(claims)
      .setProtectedHeader({ alg: SIGNING_ALG, kid: key.kid, typ })
      .setIssuer(this.issuer)
      .setAudience(this.issuer)
      .setIssuedAt(Math.floor(this.clock().getTime() / 1000))
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .sign(key.privateKey);
  }

  /** The claims, or undefined for anything that is not a valid, unexpired statement of this type. */
  async verify(typ: StatementType, token: string): Promise<JWTPayload | undefined> {
    try {
      if (decodeProtectedHeader(token).typ !== typ) return undefined;
      const { payload } = await jwtVerify(token, createLocalJWKSet(await this.keys.jwks()), {
        algorithms: [SIGNING_ALG],
        issuer: this.issuer,
        audience: this.issuer,
        typ,
        currentDate: this.clock(),
        requiredClaims: ['exp'],
      });
      return payload;
    } catch {
      return undefined;
    }
  }
}
