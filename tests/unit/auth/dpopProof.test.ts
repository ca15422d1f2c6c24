import { calculateJwkThumbprint } from 'jose';
import { describe, expect, it } from 'vitest';
import { DpopProofVerifier, InvalidDpopProofError } from '../../../src/auth/dpopProof.js';
import type { ProofReplayCache } from '../../../src/auth/proofReplayCache.js';
import { wwwAuthenticate } from '../../../src/auth/wwwAuthenticate.js';
import { dpopKey, dpopProof } from '../../fixtures/dpop.js';

const NOW = new Date('2026-11-29T12:00:00Z');
const NOW_S = NOW.getTime() / 1000;
const URL_ = 'https://gw.example/graphql';

/** An in-memory replay cache that also records what it was asked to remember until when. */
function memoryCache(): ProofReplayCache & { entries: Map<string, Date> } {
  const entries = new Map<string, Date>();
  return { entries, remember: async (key, expiresAt) => (entries.has(key) ? false : (entries.set(key, expiresAt), true)) };
}

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidDpopProofError);
    return (err as Error).message;
  }
  throw new Error('accepted');
}

describe('DpopProofVerifier', () => {
  it('returns the key thumbprint and remembers the jti until the proof could no longer be accepted', async () => {
    const key = await dpopKey();
    const cache = memoryCache();
    const verifier = new DpopProofVerifier(cache, () => NOW);
    const proof = await dpopProof(key, { htm: 'POST', htu: `${URL_}?ignored=1`, accessToken: 'tok', iat: NOW_S });
    expect(await verifier.verify(proof, { method: 'POST', url: URL_, accessToken: 'tok' })).toEqual({ jkt: await calculateJwkThumbprint(key.publicJwk) });
    expect([...cache.entries.values()]).toEqual([new Date((NOW_S + 70) * 1000)]);
    expect(await failure(verifier.verify(proof, { method: 'POST', url: URL_, accessToken: 'tok' }))).toBe('This DPoP proof (jti) has already been used.');
  });

  it.each([
    ['61 s old', -61, "The DPoP proof is not fresh: its iat must be within 60 seconds of the server's time."],
    ['11 s ahead', 11, "The DPoP proof is not fresh: its iat must be within 60 seconds of the server's time."],
  ])('refuses a proof %s', async (_name, offset, message) => {
    const verifier = new DpopProofVerifier(memoryCache(), () => NOW);
    const proof = await dpopProof(await dpopKey(), { htm: 'GET', htu: URL_, iat: NOW_S + offset });
    expect(await failure(verifier.verify(proof, { method: 'GET', url: URL_ }))).toBe(message);
  });

  it.each([
    ['60 s old', -60],
    ['10 s ahead', 10],
  ])('accepts a proof %s', async (_name, offset) => {
    const verifier = new DpopProofVerifier(memoryCache(), () => NOW);
    const proof = await dpopProof(await dpopKey(), { htm: 'GET', htu: URL_, iat: NOW_S + offset });
    await expect(verifier.verify(proof, { method: 'GET', url: URL_ })).resolves.toHaveProperty('jkt');
  });

  it('refuses a proof of another type, with a private key in its header, or two proofs at once, and remembers none of them', async () => {
    const key = await dpopKey();
    const cache = memoryCache();
    const verifier = new DpopProofVerifier(cache, () => NOW);
    const expected = { method: 'GET', url: URL_ };
    const malformed = 'The DPoP proof is malformed: it must be a JWT of typ dpop+jwt carrying its public key in jwk.';
    expect(await failure(verifier.verify(await dpopProof(key, { htm: 'GET', htu: URL_, iat: NOW_S }, { typ: 'JWT' }), expected))).toBe(
      'The DPoP proof must have the header typ dpop+jwt.',
    );
    const { privateKey } = await import('jose').then((jose) => jose.generateKeyPair('ES256', { extractable: true }));
    const privateJwk = await (await import('jose')).exportJWK(privateKey);
    expect(await failure(verifier.verify(await dpopProof(key, { htm: 'GET', htu: URL_, iat: NOW_S }, { jwk: privateJwk }), expected))).toBe(malformed);
    const one = await dpopProof(key, { htm: 'GET', htu: URL_, iat: NOW_S });
    expect(await failure(verifier.verify([one, one], expected))).toBe('Send exactly one DPoP header.');
    expect(cache.entries.size).toBe(0);
  });
});

describe('wwwAuthenticate', () => {
  const base = { resourceMetadata: 'https://gw.example/.well-known/oauth-protected-resource' };
  const algs = 'algs="ES256 ES384 ES512 RS256 RS384 RS512 PS256 PS384 PS512 EdDSA Ed25519"';
  const rm = `resource_metadata="${base.resourceMetadata}"`;
  it.each([
    ['no credentials: no error', base, [`DPoP ${algs}, ${rm}`, `Bearer realm="consentry", ${rm}`]],
    [
      'a proof problem is reported in the DPoP challenge only',
      { ...base, error: 'invalid_dpop_proof' as const, description: 'stale', usedScheme: 'Bearer' as const },
      [`DPoP ${algs}, error="invalid_dpop_proof", error_description="stale", ${rm}`, `Bearer realm="consentry", ${rm}`],
    ],
    [
      'a token problem is reported against the scheme used, quotes made safe',
      { ...base, error: 'invalid_token' as const, description: 'the "aud" claim\\', usedScheme: 'Bearer' as const },
      [`DPoP ${algs}, ${rm}`, `Bearer realm="consentry", error="invalid_token", error_description="the 'aud' claim'", ${rm}`],
    ],
  ])('%s', (_name, challenge, expected) => {
    expect(wwwAuthenticate(challenge)).toEqual(expected);
  });
});
