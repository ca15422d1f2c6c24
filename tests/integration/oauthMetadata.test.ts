import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { updatePartner } from '../../src/store/partners.js';
import { createTestPartner, partnerToken, startGateway, type TestGateway } from '../fixtures/gateway.js';

const ALGS = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA', 'Ed25519'];
const CATEGORIES = ['identity.verified', 'score.band', 'score.dimensions', 'score.factors', 'score.history', 'score.threshold', 'score.value'];

describe('what the gateway advertises to OAuth clients', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway('pglite');
  });
  afterAll(() => gw?.close());

  it('publishes RFC 8414 metadata that oauth4webapi accepts for the issuer it was asked about', async () => {
    const issuer = new URL(gw.url);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', [oauth.allowInsecureRequests]: true }));
    expect({ ...as, scopes_supported: [...(as.scopes_supported ?? [])].sort() }).toEqual({
      issuer: gw.url,
      token_endpoint: `${gw.url}/oauth/token`,
      jwks_uri: `${gw.url}/.well-known/jwks.json`,
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ALGS,
      dpop_signing_alg_values_supported: ALGS,
      scopes_supported: CATEGORIES,
      response_types_supported: [],
      service_documentation: `${gw.url}/docs/partners`,
      protected_resources: [gw.url],
    });
  });

  it('publishes RFC 9728 protected-resource metadata', async () => {
    const res = await fetch(`${gw.url}/.well-known/oauth-protected-resource`);
    const body = (await res.json()) as Record<string, unknown>;
    expect({ ...body, scopes_supported: [...(body.scopes_supported as string[])].sort() }).toEqual({
      resource: gw.url,
      authorization_servers: [gw.url],
      scopes_supported: CATEGORIES,
      bearer_methods_supported: ['header'],
      resource_signing_alg_values_supported: ['ES256'],
      resource_name: 'Consentry',
      resource_documentation: `${gw.url}/docs/partners`,
      dpop_signing_alg_values_supported: ALGS,
      dpop_bound_access_tokens_required: false,
    });
  });

  it('serves the documentation the metadata points to', async () => {
    const res = await fetch(`${gw.url}/docs/partners`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(await res.text()).toContain(`${gw.url}/oauth/token`);
  });

  it("challenges a suspended partner's 403 as well, without an RFC 6750 error code that would mislead", async () => {
    const partner = await createTestPartner(gw.services);
    const token = await partnerToken(gw.url, partner);
    await updatePartner(gw.services.db, partner.id, { status: 'suspended' }, new Date());
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ subject(id: "s1", purpose: "deposit_waiver") { id } }' }),
    });
    expect(res.status).toBe(403);
    const metadata = `${gw.url}/.well-known/oauth-protected-resource`;
    expect(res.headers.get('www-authenticate')).toBe(
      `DPoP algs="${ALGS.join(' ')}", resource_metadata="${metadata}", Bearer realm="consentry", resource_metadata="${metadata}"`,
    );
  });
});
