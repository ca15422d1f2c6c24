import { CompactSign, compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose';
import { SIGNING_ALG, type SigningKeys } from '../auth/signingKeys.js';
import { describeJoseFailure } from '../auth/gatewayTokens.js';

/** The version of the consent wording and rules a receipt was issued under. */
export const POLICY_VERSION = '2026-11';
export const RECEIPT_TYPE = 'consent-receipt+jws';

export interface ReceiptClaims {
  consentId: string;
  subject: string;
  partner: { id: string; name: string };
  purpose: string;
  categories: string[];
  grantedAt: string;
  expiresAt: string;
  policyVersion: string;
  issuer: string;
}

/**
 * A consent receipt: a compact JWS the subject (or anyone) can check offline
 * with nothing but the published JWKS. Its `typ` keeps it from ever passing as
 * an access token.
 */
export async function signReceipt(keys: SigningKeys, claims: ReceiptClaims): Promise<string> {
  const key = await keys.signingKey();
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg: SIGNING_ALG, kid: key.kid, typ: RECEIPT_TYPE })
    .sign(key.privateKey);
}

export class ReceiptInvalidError extends Error {
  readonly code = 'RECEIPT_INVALID';
}

/** Verifies a receipt against a JWKS; throws ReceiptInvalidError saying why. */
export async function verifyReceipt(jws: string, jwks: JSONWebKeySet): Promise<{ kid: string; claims: ReceiptClaims }> {
  let result;
  try {
    result = await compactVerify(jws.trim(), createLocalJWKSet(jwks), { algorithms: [SIGNING_ALG] });
  } catch (err) {
    throw new ReceiptInvalidError(describeJoseFailure(err).replace('token', 'receipt'));
  }
  if (result.protectedHeader.typ !== RECEIPT_TYPE) throw new ReceiptInvalidError('This is not a consent receipt.');
  let claims: ReceiptClaims;
  try {
    claims = JSON.parse(new TextDecoder().decode(result.payload)) as ReceiptClaims;
  } catch {
    throw new ReceiptInvalidError('The receipt payload is not JSON.');
  }
  return { kid: String(result.protectedHeader.kid), claims };
}
