import { createPublicKey, type JsonWebKey } from 'node:crypto';
import type { JSONWebKeySet, JWK } from 'jose';
import { BadUserInputError } from '../errors.js';
import { ASSERTION_ALGORITHMS } from './algorithms.js';

/** JWK members that only a private (or secret) key has. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;
const PUBLIC_KEY_TYPES = ['EC', 'RSA', 'OKP'];

/**
 * Checks a partner's JWKS before it is registered. Only asymmetric public
 * keys are accepted: a private key sent to us is a key the partner must now
 * consider leaked, and a symmetric (`oct`) key would let whoever reads our
 * database sign assertions as the partner. Every key needs a `kid`, so
 * assertions name their key and audit events can name what changed.
 */
export function parsePartnerJwks(value: unknown): JSONWebKeySet {
  if (!value || typeof value !== 'object' || !Array.isArray((value as { keys?: unknown }).keys)) {
    throw new BadUserInputError('The JWKS must be a JSON object with a "keys" array.');
  }
  const keys = (value as { keys: unknown[] }).keys;
  if (!keys.length) throw new BadUserInputError('The JWKS holds no keys.');
  const problems = keys.flatMap((key, i) => keyProblems(key).map((p) => `key ${i + 1}${kidOf(key)}: ${p}`));
  const kids = keys.map((k) => (k as JWK).kid);
  const repeated = kids.filter((kid, i) => kid !== undefined && kids.indexOf(kid) !== i);
  if (repeated.length) problems.push(`kid ${[...new Set(repeated)].join(', ')} is used by more than one key`);
  if (problems.length) throw new BadUserInputError(`The JWKS is not acceptable: ${problems.join('; ')}.`);
  return { keys: keys as JWK[] };
}

/** The key ids of a JWKS: what audit events record about keys, never the keys themselves. */
export function jwksKids(jwks: JSONWebKeySet): string[] {
  return jwks.keys.map((k) => k.kid ?? '(no kid)');
}

function keyProblems(key: unknown): string[] {
  if (!key || typeof key !== 'object' || Array.isArray(key)) return ['not a JSON object'];
  const jwk = key as JWK;
  if (jwk.kty === 'oct') return ['is a symmetric (oct) key; register an asymmetric public key (EC, RSA or OKP)'];
  const privateMembers = PRIVATE_MEMBERS.filter((m) => m in jwk);
  if (privateMembers.length) {
    return [`holds private key material (${privateMembers.join(', ')}); register only the public key, and treat this private key as exposed`];
  }
  const problems: string[] = [];
  if (typeof jwk.kty !== 'string' || !PUBLIC_KEY_TYPES.includes(jwk.kty)) problems.push(`kty must be one of ${PUBLIC_KEY_TYPES.join(', ')}`);
  if (typeof jwk.kid !== 'string' || !jwk.kid) problems.push('has no kid');
  if (jwk.use !== undefined && jwk.use !== 'sig') problems.push('use must be "sig"');
  if (jwk.alg !== undefined && !ASSERTION_ALGORITHMS.includes(jwk.alg)) problems.push(`alg ${jwk.alg} is not accepted for client assertions`);
  if (!problems.length) {
    try {
      createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    } catch {
      problems.push('is not a valid public key');
    }
  }
  return problems;
}

function kidOf(key: unknown): string {
  const kid = key && typeof key === 'object' ? (key as JWK).kid : undefined;
  return typeof kid === 'string' ? ` (${kid})` : '';
}

/** What an operator sees of a registered key: never its material. */
export interface PartnerKeyDescription {
  kid: string;
  kty: string;
  crv: string | null;
  use: string | null;
  /** The algorithms a client assertion signed with this key may use: its `alg`, or what its type allows. */
  algorithms: string[];
}

const ALGORITHMS_BY_CURVE: Record<string, string[]> = { 'P-256': ['ES256'], 'P-384': ['ES384'], 'P-521': ['ES512'], Ed25519: ['EdDSA', 'Ed25519'] };

export function describePartnerKeys(jwks: JSONWebKeySet): PartnerKeyDescription[] {
  return jwks.keys.map((k) => ({
    kid: k.kid ?? '(no kid)',
    kty: k.kty ?? '(no kty)',
    crv: k.crv ?? null,
    use: k.use ?? null,
    algorithms: k.alg
      ? [k.alg]
      : k.kty === 'RSA'
        ? ASSERTION_ALGORITHMS.filter((a) => /^(RS|PS)/.test(a))
        : (ALGORITHMS_BY_CURVE[k.crv ?? ''] ?? []),
  }));
}
