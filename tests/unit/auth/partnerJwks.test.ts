import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { jwksKids, parsePartnerJwks } from '../../../src/auth/partnerJwks.js';

describe('parsePartnerJwks', () => {
  let publicJwk: JWK;
  let privateJwk: JWK;
  let rsaPublic: JWK;

  beforeAll(async () => {
    const ec = await generateKeyPair('ES256', { extractable: true });
    publicJwk = { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' };
    privateJwk = { ...(await exportJWK(ec.privateKey)), kid: 'ec-1' };
    const rsa = await generateKeyPair('RS256', { extractable: true });
    rsaPublic = { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1' };
  });

  it('accepts public EC and RSA keys with kids', () => {
    const jwks = parsePartnerJwks({ keys: [publicJwk, rsaPublic] });
    expect(jwks).toEqual({ keys: [publicJwk, rsaPublic] });
    expect(jwksKids(jwks)).toEqual(['ec-1', 'rsa-1']);
  });

  it.each<[string, () => unknown, string]>([
    ['not an object', () => 'keys', 'The JWKS must be a JSON object with a "keys" array.'],
    ['no keys array', () => ({ key: [] }), 'The JWKS must be a JSON object with a "keys" array.'],
    ['an empty key set', () => ({ keys: [] }), 'The JWKS holds no keys.'],
    [
      'a private key',
      () => ({ keys: [privateJwk] }),
      'The JWKS is not acceptable: key 1 (ec-1): holds private key material (d); register only the public key, and treat this private key as exposed.',
    ],
    [
      'a symmetric key',
      () => ({ keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 'hs' }] }),
      'The JWKS is not acceptable: key 1 (hs): is a symmetric (oct) key; register an asymmetric public key (EC, RSA or OKP).',
    ],
    ['a key without kid', () => ({ keys: [{ ...publicJwk, kid: undefined }] }), 'The JWKS is not acceptable: key 1: has no kid.'],
    ['two keys with one kid', () => ({ keys: [publicJwk, { ...rsaPublic, kid: 'ec-1' }] }), 'The JWKS is not acceptable: kid ec-1 is used by more than one key.'],
    ['an encryption key', () => ({ keys: [{ ...publicJwk, use: 'enc' }] }), 'The JWKS is not acceptable: key 1 (ec-1): use must be "sig".'],
    ['a symmetric alg on an EC key', () => ({ keys: [{ ...publicJwk, alg: 'HS256' }] }), 'The JWKS is not acceptable: key 1 (ec-1): alg HS256 is not accepted for client assertions.'],
    ['a point off the curve', () => ({ keys: [{ ...publicJwk, x: publicJwk.y }] }), 'The JWKS is not acceptable: key 1 (ec-1): is not a valid public key.'],
  ])('refuses %s', (_name, value, message) => {
    expect(() => parsePartnerJwks(value())).toThrow(message);
  });
});
