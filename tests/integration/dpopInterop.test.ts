import { calculateJwkThumbprint, decodeJwt } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { updatePartner } from '../../src/store/partners.js';
import { createTestPartner, partnerToken, startGateway, type TestGateway, type TestPartner } from '../fixtures/gateway.js';
import { dpopKey, dpopProof, type DpopKey } from '../fixtures/dpop.js';
import { STORE_KINDS } from '../fixtures/stores.js';
import { REQUEST_CONSENT } from '../fixtures/consentScenario.js';

const insecure = { [oauth.allowInsecureRequests]: true } as const;
const QUERY = JSON.stringify({ query: '{ __typename }' });
const ALGS = 'ES256 ES384 ES512 RS256 RS384 RS512 PS256 PS384 PS512 EdDSA Ed25519';

/** The partner's side, built from stock oauth4webapi only: discovery, private_key_jwt, DPoP. */
async function partnerClient(gatewayUrl: string, partner: TestPartner) {
  const issuer = new URL(gatewayUrl);
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
  const client: oauth.Client = { client_id: partner.id };
  const clientAuth = oauth.PrivateKeyJwt({ key: partner.privateKey, kid: partner.kid });
  const keyPair = await oauth.generateKeyPair('ES256');
  const DPoP = oauth.DPoP(client, keyPair);
  const grant = async (scope = 'score.band') =>
    oauth.processClientCredentialsResponse(as, client, await oauth.clientCredentialsGrantRequest(as, client, clientAuth, { scope }, { DPoP, ...insecure }));
  return { as, client, keyPair, DPoP, grant };
}

/**
 * POST /graphql through oauth4webapi's protectedResourceRequest, with whatever
 * Authorization and DPoP headers a test wants; the stock client parses the
 * WWW-Authenticate challenges of a refusal.
 */
async function callGraphql(gatewayUrl: string, authorization: string, proof?: string) {
  const headers = { 'content-type': 'application/json', ...(authorization ? { authorization } : {}), ...(proof ? { dpop: proof } : {}) };
  try {
    const res = await oauth.protectedResourceRequest('unused', 'POST', new URL(`${gatewayUrl}/graphql`), undefined, QUERY, {
      ...insecure,
      [oauth.customFetch]: (url, init) => fetch(url, { ...init, headers }),
    });
    return { status: res.status, challenges: undefined, body: await res.json() };
  } catch (err) {
    if (!(err instanceof oauth.WWWAuthenticateChallengeError)) throw err;
    return { status: err.status, challenges: err.cause, body: await err.response.json() };
  }
}

const unauthenticated = (message: string) => ({ errors: [{ message, extensions: { code: 'UNAUTHENTICATED' } }] });

describe.each(STORE_KINDS)('DPoP-bound partner tokens (RFC 9449) with oauth4webapi on %s', (kind) => {
  let gw: TestGateway;
  let partner: TestPartner;
  let metadataUrl: string;
  const challenges = (error: string, description: string, scheme: 'dpop' | 'bearer') => [
    {
      scheme: 'dpop',
      parameters: {
        algs: ALGS,
        ...(scheme === 'dpop' || error === 'invalid_dpop_proof' ? { error, error_description: description } : {}),
        resource_metadata: metadataUrl,
      },
    },
    {
      scheme: 'bearer',
      parameters: { realm: 'consentry', ...(scheme === 'bearer' && error !== 'invalid_dpop_proof' ? { error, error_description: description } : {}), resource_metadata: metadataUrl },
    },
  ];

  beforeAll(async () => {
    gw = await startGateway(kind);
    metadataUrl = `${gw.url}/.well-known/oauth-protected-resource`;
    partner = await createTestPartner(gw.services, { scopes: ['score.band'] });
    await updatePartner(gw.services.db, partner.id, { dpop: 'required' }, new Date());
  });
  afterAll(() => gw?.close());

  it('binds the token to the proof key with private_key_jwt and accepts it with proofs at /graphql', async () => {
    const p = await partnerClient(gw.url, partner);
    const tokens = await p.grant();
    expect(tokens.token_type).toBe('dpop');
    const jkt = await calculateJwkThumbprint(await crypto.subtle.exportKey('jwk', p.keyPair.publicKey) as never);
    expect(decodeJwt(tokens.access_token)).toMatchObject({ cnf: { jkt }, client_id: partner.id, scope: 'score.band' });

    for (let i = 0; i < 2; i++) {
      const res = await oauth.protectedResourceRequest(tokens.access_token, 'POST', new URL(`${gw.url}/graphql`), new Headers({ 'content-type': 'application/json' }), QUERY, {
        DPoP: p.DPoP,
        ...insecure,
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ data: { __typename: 'Query' } });
    }
  });

  it('lets oauth4webapi validateJwtAccessToken accept the token against the published metadata', async () => {
    const p = await partnerClient(gw.url, partner);
    const { access_token } = await p.grant();
    const key: DpopKey = { privateKey: p.keyPair.privateKey, publicKey: p.keyPair.publicKey, publicJwk: await crypto.subtle.exportKey('jwk', p.keyPair.publicKey) as never };
    const request = new Request(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { authorization: `DPoP ${access_token}`, dpop: await dpopProof(key, { htm: 'POST', htu: `${gw.url}/graphql`, accessToken: access_token }) },
    });
    const claims = await oauth.validateJwtAccessToken(p.as, request, gw.url, { requireDPoP: true, ...insecure });
    expect(claims).toMatchObject({ iss: gw.url, aud: gw.url, sub: partner.id, client_id: partner.id });
  });

  describe('refusals', () => {
    let token: string;
    let key: DpopKey;
    const htu = () => `${gw.url}/graphql`;
    beforeAll(async () => {
      const p = await partnerClient(gw.url, partner);
      token = (await p.grant()).access_token;
      key = { privateKey: p.keyPair.privateKey, publicKey: p.keyPair.publicKey, publicJwk: await crypto.subtle.exportKey('jwk', p.keyPair.publicKey) as never };
    });

    it('refuses a replayed proof', async () => {
      const proof = await dpopProof(key, { htm: 'POST', htu: htu(), accessToken: token });
      expect((await callGraphql(gw.url, `DPoP ${token}`, proof)).status).toBe(200);
      const message = 'This DPoP proof (jti) has already been used.';
      expect(await callGraphql(gw.url, `DPoP ${token}`, proof)).toEqual({ status: 401, challenges: challenges('invalid_dpop_proof', message, 'dpop'), body: unauthenticated(message) });
    });

    it('refuses a proof for another URL or another method', async () => {
      const otherUrl = await dpopProof(key, { htm: 'POST', htu: `${gw.url}/oauth/token`, accessToken: token });
      let message = 'The DPoP proof is for another URL (htu).';
      expect(await callGraphql(gw.url, `DPoP ${token}`, otherUrl)).toEqual({ status: 401, challenges: challenges('invalid_dpop_proof', message, 'dpop'), body: unauthenticated(message) });
      const otherMethod = await dpopProof(key, { htm: 'GET', htu: htu(), accessToken: token });
      message = 'The DPoP proof is for another HTTP method (htm).';
      expect(await callGraphql(gw.url, `DPoP ${token}`, otherMethod)).toEqual({ status: 401, challenges: challenges('invalid_dpop_proof', message, 'dpop'), body: unauthenticated(message) });
    });

    it('refuses a stale proof and one for another token', async () => {
      const stale = await dpopProof(key, { htm: 'POST', htu: htu(), accessToken: token, iat: Math.floor(Date.now() / 1000) - 120 });
      let message = "The DPoP proof is not fresh: its iat must be within 60 seconds of the server's time.";
      expect(await callGraphql(gw.url, `DPoP ${token}`, stale)).toEqual({ status: 401, challenges: challenges('invalid_dpop_proof', message, 'dpop'), body: unauthenticated(message) });
      const otherToken = await dpopProof(key, { htm: 'POST', htu: htu(), accessToken: `${token}x` });
      message = 'The DPoP proof is not for this access token (ath).';
      expect(await callGraphql(gw.url, `DPoP ${token}`, otherToken)).toEqual({ status: 401, challenges: challenges('invalid_dpop_proof', message, 'dpop'), body: unauthenticated(message) });
    });

    it('refuses a proof signed by another key', async () => {
      const proof = await dpopProof(await dpopKey(), { htm: 'POST', htu: htu(), accessToken: token });
      const message = 'The DPoP proof is signed by a key this access token is not bound to.';
      expect(await callGraphql(gw.url, `DPoP ${token}`, proof)).toEqual({ status: 401, challenges: challenges('invalid_token', message, 'dpop'), body: unauthenticated(message) });
    });

    it('refuses a missing proof', async () => {
      const message = 'A DPoP proof is required.';
      expect(await callGraphql(gw.url, `DPoP ${token}`)).toEqual({ status: 401, challenges: challenges('invalid_dpop_proof', message, 'dpop'), body: unauthenticated(message) });
    });

    it('refuses the bound token sent as a bearer token, with or without a proof', async () => {
      const message = 'This access token is DPoP-bound: send it as "Authorization: DPoP <token>" with a DPoP proof.';
      const expected = { status: 401, challenges: challenges('invalid_token', message.replace(/"/g, "'"), 'bearer'), body: unauthenticated(message) };
      expect(await callGraphql(gw.url, `Bearer ${token}`)).toEqual(expected);
      expect(await callGraphql(gw.url, `Bearer ${token}`, await dpopProof(key, { htm: 'POST', htu: htu(), accessToken: token }))).toEqual(expected);
    });
  });

  it('guards the partner mutations the same way: requestConsent needs the proof too', async () => {
    const p = await partnerClient(gw.url, partner);
    const { access_token } = await p.grant();
    const mutation = JSON.stringify({
      query: REQUEST_CONSENT,
      variables: { input: { subjectId: 'dpop-subject', purpose: 'deposit_waiver', categories: ['score.band'], durationDays: 30 } },
    });
    const asBearer = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${access_token}` },
      body: mutation,
    });
    expect(asBearer.status).toBe(401);
    const res = await oauth.protectedResourceRequest(access_token, 'POST', new URL(`${gw.url}/graphql`), new Headers({ 'content-type': 'application/json' }), mutation, {
      DPoP: p.DPoP,
      ...insecure,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ data: { requestConsent: { status: 'PENDING' } } });
  });

  it('answers a request without credentials with both challenges and no error code (RFC 6750 section 3.1)', async () => {
    const res = await callGraphql(gw.url, '');
    expect(res.status).toBe(401);
    expect(res.challenges).toEqual([
      { scheme: 'dpop', parameters: { algs: ALGS, resource_metadata: metadataUrl } },
      { scheme: 'bearer', parameters: { realm: 'consentry', resource_metadata: metadataUrl } },
    ]);
  });

  it('refuses a token request without a proof from a partner registered with --dpop required', async () => {
    const issuer = new URL(gw.url);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
    const client = { client_id: partner.id };
    const res = await oauth.clientCredentialsGrantRequest(as, client, oauth.PrivateKeyJwt({ key: partner.privateKey, kid: partner.kid }), { scope: 'score.band' }, insecure);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'invalid_request', error_description: 'This client must send a DPoP proof (RFC 9449): its access tokens are sender-constrained.' });
  });

  it('still issues bearer tokens to a partner registered with --dpop optional that sends no proof', async () => {
    const other = await createTestPartner(gw.services, { scopes: ['score.band'] });
    const token = await partnerToken(gw.url, other);
    expect(decodeJwt(token).cnf).toBeUndefined();
    expect((await callGraphql(gw.url, `Bearer ${token}`)).status).toBe(200);
    const message = 'This access token is not DPoP-bound: send it as "Authorization: Bearer <token>".';
    expect((await callGraphql(gw.url, `DPoP ${token}`)).body).toEqual(unauthenticated(message));
  });
});

describe.each([
  ['the database', {}],
  ['Redis', { REDIS_URL: 'redis://127.0.0.1:6379' }],
])('DPoP proof replay across two replicas sharing %s', (_name, env) => {
  let first: TestGateway;
  let second: TestGateway;
  beforeAll(async () => {
    first = await startGateway('postgres', { env });
    // A second replica on the same database behind the same public URL.
    second = await startGateway('postgres', { env: { ...env, ...first.store.env, CONSENTRY_ISSUER: first.url } });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  it('refuses on one replica a proof already used on the other', async () => {
    const partner = await createTestPartner(first.services, { scopes: ['score.band'] });
    const p = await partnerClient(first.url, partner);
    const { access_token } = await p.grant();
    const key: DpopKey = { privateKey: p.keyPair.privateKey, publicKey: p.keyPair.publicKey, publicJwk: await crypto.subtle.exportKey('jwk', p.keyPair.publicKey) as never };
    const proof = await dpopProof(key, { htm: 'POST', htu: `${first.url}/graphql`, accessToken: access_token });
    expect((await callGraphql(first.url, `DPoP ${access_token}`, proof)).status).toBe(200);
    const replayed = await callGraphql(second.url, `DPoP ${access_token}`, proof);
    expect(replayed.status).toBe(401);
    expect(replayed.body).toEqual(unauthenticated('This DPoP proof (jti) has already been used.'));
  });
});
