import { SignJWT, decodeJwt, decodeProtectedHeader, generateKeyPair, exportJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { updatePartner } from '../../src/store/partners.js';
import { STORE_KINDS } from '../fixtures/stores.js';
import { clientAssertion, createTestPartner, requestToken, startGateway, type TestGateway, type TestPartner } from '../fixtures/gateway.js';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

describe.each(STORE_KINDS)('POST /oauth/token on %s', (kind) => {
  let gw: TestGateway;
  let partner: TestPartner;
  const form = (assertion: string, extra: Record<string, string> = {}) => ({
    grant_type: 'client_credentials',
    client_assertion_type: ASSERTION_TYPE,
    client_assertion: assertion,
    ...extra,
  });

  beforeAll(async () => {
    gw = await startGateway(kind);
    partner = await createTestPartner(gw.services, { scopes: ['score.threshold', 'score.band'] });
  });
  afterAll(() => gw?.close());

  it('issues an RFC 9068 access token for a valid assertion', async () => {
    const res = await requestToken(gw.url, form(await clientAssertion(gw.url, partner), { scope: 'score.threshold' }));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 900, scope: 'score.threshold' });
    const token = res.body.access_token as string;
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ iss: gw.url, sub: partner.id, client_id: partner.id, aud: gw.url, scope: 'score.threshold' });
    expect(claims.exp! - claims.iat!).toBe(900);
    expect(typeof claims.jti).toBe('string');
  });

  it('grants every approved scope when none is asked', async () => {
    const res = await requestToken(gw.url, form(await clientAssertion(gw.url, partner)));
    expect(res.body.scope).toBe('score.threshold score.band');
  });

  it('accepts the issuer as audience', async () => {
    const res = await requestToken(gw.url, form(await clientAssertion(gw.url, partner, { aud: gw.url })));
    expect(res.status).toBe(200);
  });

  it('refuses a replayed jti', async () => {
    const assertion = await clientAssertion(gw.url, partner);
    expect((await requestToken(gw.url, form(assertion))).status).toBe(200);
    const replay = await requestToken(gw.url, form(assertion));
    expect(replay).toEqual({ status: 401, body: { error: 'invalid_client', error_description: 'This assertion (jti) has already been used.' } });
  });

  it('refuses an expired assertion', async () => {
    const now = Math.floor(Date.now() / 1000);
    const res = await requestToken(gw.url, form(await clientAssertion(gw.url, partner, { exp: now - 120 })));
    expect(res).toEqual({ status: 401, body: { error: 'invalid_client', error_description: 'The assertion has expired.' } });
  });

  it('refuses an assertion that lives longer than five minutes', async () => {
    const now = Math.floor(Date.now() / 1000);
    const res = await requestToken(gw.url, form(await clientAssertion(gw.url, partner, { exp: now + 3600 })));
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });

  it('refuses an assertion signed with an unregistered key', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const stranger = { ...partner, privateKey };
    const res = await requestToken(gw.url, form(await clientAssertion(gw.url, stranger)));
    expect(res).toEqual({ status: 401, body: { error: 'invalid_client', error_description: 'The assertion signature is not valid.' } });
  });

  it('refuses alg: none', async () => {
    const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${enc({ alg: 'none', typ: 'JWT' })}.${enc({ iss: partner.id, sub: partner.id, aud: `${gw.url}/oauth/token`, exp: now + 60, jti: 'none-1' })}.`;
    const res = await requestToken(gw.url, form(unsigned));
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });

  it('refuses an HS256 assertion keyed with the public key', async () => {
    const secret = new TextEncoder().encode(JSON.stringify(partner.publicJwk));
    const now = Math.floor(Date.now() / 1000);
    const hs = await new SignJWT({ jti: 'hs-1' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(partner.id)
      .setSubject(partner.id)
      .setAudience(`${gw.url}/oauth/token`)
      .setExpirationTime(now + 60)
      .sign(secret);
    const res = await requestToken(gw.url, form(hs));
    expect(res).toEqual({
      status: 401,
      body: { error: 'invalid_client', error_description: 'The assertion algorithm is not accepted; use an asymmetric algorithm.' },
    });
  });

  it('refuses a wrong audience', async () => {
    const res = await requestToken(gw.url, form(await clientAssertion(gw.url, partner, { aud: 'https://elsewhere.example/token' })));
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: 'invalid_client' });
    expect(res.body.error_description).toMatch(/"aud"/);
  });

  it('refuses an unknown client', async () => {
    const res = await requestToken(gw.url, form(await clientAssertion(gw.url, partner, { iss: 'nobody', sub: 'nobody' })));
    expect(res).toEqual({ status: 401, body: { error: 'invalid_client', error_description: 'Unknown client.' } });
  });

  it('refuses a suspended partner', async () => {
    const suspended = await createTestPartner(gw.services);
    await updatePartner(gw.services.db, suspended.id, { status: 'suspended' }, new Date());
    const res = await requestToken(gw.url, form(await clientAssertion(gw.url, suspended)));
    expect(res).toEqual({ status: 400, body: { error: 'unauthorized_client', error_description: 'This client is suspended.' } });
  });

  it('refuses an over-broad scope', async () => {
    const res = await requestToken(gw.url, form(await clientAssertion(gw.url, partner), { scope: 'score.band score.value' }));
    expect(res).toEqual({ status: 400, body: { error: 'invalid_scope', error_description: 'Not approved for this client: score.value.' } });
  });

  it('refuses a missing assertion and a wrong grant type', async () => {
    expect(await requestToken(gw.url, { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE })).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: 'client_assertion is required.' },
    });
    expect((await requestToken(gw.url, { grant_type: 'password' })).body.error).toBe('unsupported_grant_type');
  });

  it('publishes RFC 8414 metadata and the JWKS', async () => {
    const meta = (await (await fetch(`${gw.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(meta).toMatchObject({
      issuer: gw.url,
      token_endpoint: `${gw.url}/oauth/token`,
      jwks_uri: `${gw.url}/.well-known/jwks.json`,
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
    });
    const jwks = (await (await fetch(`${gw.url}/.well-known/jwks.json`)).json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(jwks.keys[0]).not.toHaveProperty('d');
  });
});
