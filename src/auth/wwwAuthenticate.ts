import type { ChallengeError } from '../errors.js';
import { DPOP_ALGORITHMS } from './dpopProof.js';

export type AuthScheme = 'Bearer' | 'DPoP';

export interface Challenge {
  /** The RFC 9728 metadata URL, so a client can find the authorization server from a 401 alone. */
  resourceMetadata: string;
  error?: ChallengeError | 'insufficient_scope';
  description?: string;
  /** The scheme the client used; the error is reported against it (both schemes when none was used). */
  usedScheme?: AuthScheme;
}

/**
 * The WWW-Authenticate challenges for a refused /graphql request: one per
 * scheme the resource accepts (RFC 6750 section 3, RFC 9449 section 7.1),
 * each with the protected-resource metadata URL (RFC 9728 section 5.1).
 */
export function wwwAuthenticate(c: Challenge): string[] {
  const quoted = (name: string, value: string) => `${name}="${value.replace(/["\\]/g, "'").replace(/[^\x20-\x7e]/g, '')}"`;
  const build = (scheme: AuthScheme): string => {
    const params = scheme === 'Bearer' ? [quoted('realm', 'consentry')] : [quoted('algs', DPOP_ALGORITHMS.join(' '))];
    // A DPoP proof problem is only meaningful in the DPoP challenge.
    const reportsError = c.error && (c.error === 'invalid_dpop_proof' ? scheme === 'DPoP' : !c.usedScheme || c.usedScheme === scheme);
    if (reportsError) {
      params.push(quoted('error', c.error!));
      if (c.description) params.push(quoted('error_description', c.description));
    }
    params.push(quoted('resource_metadata', c.resourceMetadata));
    return `${scheme} ${params.join(', ')}`;
  };
  return [build('DPoP'), build('Bearer')];
}
