import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { importJWK, SignJWT, type JWK } from 'jose';

/** What the operator handed over at registration: the client id and key id, and the private key that stays with you. */
export interface PartnerCredentials {
  clientId: string;
  kid: string;
  privateJwk: JWK;
}

/** `partner.json` ({clientId, kid, ...}) and `private-key.json` from one folder, as `consentry seed-demo` writes them. */
export async function readCredentials(folder: string): Promise<PartnerCredentials> {
  const partner = JSON.parse(await readFile(join(folder, 'partner.json'), 'utf8')) as { clientId: string; kid: string };
  const privateJwk = JSON.parse(await readFile(join(folder, 'private-key.json'), 'utf8')) as JWK;
  return { clientId: partner.clientId, kid: partner.kid, privateJwk };
}

/**
 * OAuth 2.0 client_credentials with private_key_jwt (RFC 7523): a
 * single-use assertion signed with your key buys a 15-minute access token
 * for the scopes asked.
 */
export async function accessToken(gateway: string, credentials: PartnerCredentials, scope: string): Promise<string> {
  const alg = credentials.privateJwk.alg ?? 'ES256';
  const key = await importJWK(credentials.privateJwk, alg);
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg, kid: credentials.kid })
    .setIssuer(credentials.clientId)
    .setSubject(credentials.clientId)
    .setAudience(`${gateway}/oauth/token`)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime('2m')
    .sign(key);
  const res = await fetch(`${gateway}/oauth/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
      scope,
    }),
  });
  const body = (await res.json()) as { access_token?: string; error?: string; error_description?: string };
  if (!res.ok || !body.access_token) throw new Error(`token request refused: ${body.error ?? res.status} ${body.error_description ?? ''}`.trim());
  return body.access_token;
}
