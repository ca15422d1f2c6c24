import { CompactSign, exportJWK, generateKeyPair, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SigningKey, SigningKeys } from '../../../src/auth/signingKeys.js';
import { POLICY_VERSION, ReceiptInvalidError, signReceipt, verifyReceipt, type ReceiptClaims } from '../../../src/consent/receipts.js';

const claims: ReceiptClaims = {
  consentId: '3f0c1a52-8d5e-4c1b-9a61-0f4b8a1d2e3c',
  subject: 'subject-1',
  partner: { id: 'p_swift', name: 'Swift Car Rental' },
  purpose: 'deposit_waiver',
  categories: ['score.band', 'score.threshold'],
  grantedAt: '2026-11-01T10:00:00.000Z',
  expiresAt: '2027-01-30T10:00:00.000Z',
  policyVersion: POLICY_VERSION,
  issuer: 'https://consentry.example',
};

async function makeKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

/** Only what signReceipt uses of the gateway's key store: the current signing key. */
const keysSigningWith = (key: SigningKey) => ({ signingKey: async () => key }) as unknown as SigningKeys;
const jwks = (...keys: SigningKey[]): { keys: JWK[] } => ({ keys: keys.map((k) => k.publicJwk) });

async function failureOf(promise: Promise<unknown>): Promise<{ name: string; code: string; message: string }> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ReceiptInvalidError)) throw new Error(`expected ReceiptInvalidError, got ${String(err)}`);
  return { name: err.constructor.name, code: err.code, message: err.message };
}

describe('consent receipts', () => {
  let current: SigningKey;
  let retired: SigningKey;

  beforeAll(async () => {
    current = await makeKey('2026-11-01-current');
    retired = await makeKey('2025-10-01-retired');
  });

  it('verifies a receipt against the published keys and returns exactly what was signed', async () => {
    const receipt = await signReceipt(keysSigningWith(current), claims);
    expect(await verifyReceipt(receipt, jwks(retired, current))).toEqual({ kid: current.kid, claims });
  });

  it('still verifies a receipt signed with a retired key while that key is published', async () => {
    const receipt = await signReceipt(keysSigningWith(retired), claims);
    expect((await verifyReceipt(receipt, jwks(retired, current))).kid).toBe(retired.kid);
  });

  it('refuses a receipt whose payload was altered', async () => {
    const [header, , signature] = (await signReceipt(keysSigningWith(current), claims)).split('.');
    const widened = Buffer.from(JSON.stringify({ ...claims, categories: [...claims.categories, 'score.value'] })).toString('base64url');
    expect(await failureOf(verifyReceipt(`${header}.${widened}.${signature}`, jwks(current)))).toEqual({
      name: 'ReceiptInvalidError',
      code: 'RECEIPT_INVALID',
      message: 'The receipt signature is not valid.',
    });
  });

  it('refuses a receipt signed with a different key under a published kid', async () => {
    const impostor = { ...(await makeKey(current.kid)) };
    const receipt = await signReceipt(keysSigningWith(impostor), claims);
    expect((await failureOf(verifyReceipt(receipt, jwks(current)))).message).toBe('The receipt signature is not valid.');
  });

  it('refuses a receipt signed with a key that is no longer published', async () => {
    const receipt = await signReceipt(keysSigningWith(retired), claims);
    expect((await failureOf(verifyReceipt(receipt, jwks(current)))).message).toBe('The receipt is signed with a key this gateway does not know.');
  });

  it('refuses a JWS that is not a receipt (another typ), even when the signature is good', async () => {
    const token = await new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
      .setProtectedHeader({ alg: 'ES256', kid: current.kid, typ: 'at+jwt' })
      .sign(current.privateKey);
    expect((await failureOf(verifyReceipt(token, jwks(current)))).message).toBe('This is not a consent receipt.');
  });

  it('refuses an unsigned (alg: none) receipt', async () => {
    const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const unsigned = `${enc({ alg: 'none', typ: 'consent-receipt+jws', kid: current.kid })}.${enc(claims)}.`;
    expect((await failureOf(verifyReceipt(unsigned, jwks(current)))).code).toBe('RECEIPT_INVALID');
  });
});
