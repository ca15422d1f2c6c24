import { UnauthenticatedError } from '../errors.js';
import type { DpopProofVerifier } from './dpopProof.js';
import type { GatewayTokens } from './gatewayTokens.js';
import type { Principal } from './principal.js';
import type { AuthScheme } from './wwwAuthenticate.js';

/** Verifies access tokens from a trusted external OpenID issuer; returns undefined when the token is not that issuer's. */
export interface ExternalTokenVerifier {
  verify(token: string): Promise<Principal | undefined>;
}

/** What a request presents: its Authorization and DPoP headers, and what a DPoP proof must name. */
export interface PresentedCredentials {
  authorization: string | undefined;
  dpop?: string | string[];
  method: string;
  /** The URL the client called, as the issuer's origin plus the path. */
  url: string;
}

export interface Authenticators {
  tokens: GatewayTokens;
  external?: ExternalTokenVerifier;
  dpop: DpopProofVerifier;
}

/** The scheme a credential was sent with, for the challenge that answers a refusal. */
export function schemeOf(authorization: string | undefined): AuthScheme | undefined {
  const scheme = /^(\S+)\s/.exec(authorization ?? '')?.[1]?.toLowerCase();
  return scheme === 'dpop' ? 'DPoP' : scheme === 'bearer' ? 'Bearer' : undefined;
}

/**
 * Turns a request's credentials into a principal. No Authorization header:
 * anonymous (the operation decides whether that is enough). A credential that
 * does not verify: UNAUTHENTICATED, never silently anonymous.
 *
 * A DPoP-bound token (`cnf.jkt`, RFC 9449) is accepted only with the DPoP
 * scheme and a fresh, unused proof by the bound key for this method, URL and
 * token; sent as Bearer it is refused, which is what makes a token copied
 * from a partner's logs worthless.
 */
export async function authenticate(credentials: PresentedCredentials, deps: Authenticators): Promise<Principal | undefined> {
  const { authorization } = credentials;
  if (!authorization) return undefined;
  const match = /^(Bearer|DPoP)\s+([A-Za-z0-9_\-.]+)\s*$/i.exec(authorization);
  if (!match) throw new UnauthenticatedError('The Authorization header must be "DPoP <token>" or "Bearer <token>".', 'invalid_request');
  const scheme = match[1]!.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer';
  const token = match[2]!;

  if (scheme === 'Bearer' && deps.external) {
    const principal = await deps.external.verify(token);
    if (principal) return principal;
  }
  const principal = await deps.tokens.verify(token);
  const boundKey = principal.kind === 'partner' ? principal.jkt : undefined;
  if (scheme === 'Bearer') {
    if (boundKey) throw new UnauthenticatedError('This access token is DPoP-bound: send it as "Authorization: DPoP <token>" with a DPoP proof.');
    return principal;
  }
  if (!boundKey) throw new UnauthenticatedError('This access token is not DPoP-bound: send it as "Authorization: Bearer <token>".');
  const { jkt } = await deps.dpop.verify(credentials.dpop, { method: credentials.method, url: credentials.url, accessToken: token });
  if (jkt !== boundKey) throw new UnauthenticatedError('The DPoP proof is signed by a key this access token is not bound to.');
  return principal;
}
