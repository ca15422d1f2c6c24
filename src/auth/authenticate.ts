import { UnauthenticatedError } from '../errors.js';
import type { GatewayTokens } from './gatewayTokens.js';
import type { Principal } from './principal.js';

/** Verifies tokens from a trusted external OpenID issuer; returns undefined when the token is not that issuer's. */
export interface ExternalTokenVerifier {
  verify(token: string): Promise<Principal | undefined>;
}

/**
 * Turns an Authorization header into a principal. No header: anonymous (the
 * operation decides whether that is enough). A header that does not verify:
 * UNAUTHENTICATED, never silently anonymous.
 */
export async function authenticate(
  authorization: string | undefined,
  tokens: GatewayTokens,
  external?: ExternalTokenVerifier,
): Promise<Principal | undefined> {
  if (!authorization) return undefined;
  const match = /^Bearer\s+([A-Za-z0-9_\-.]+)\s*$/i.exec(authorization);
  if (!match) throw new UnauthenticatedError('The Authorization header must be "Bearer <token>".');
  const token = match[1]!;
  if (external) {
    const principal = await external.verify(token);
    if (principal) return principal;
  }
  return tokens.verify(token);
}
