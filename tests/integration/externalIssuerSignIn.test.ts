import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider from 'oidc-provider';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { STORE_KINDS } from '../fixtures/stores.js';
import { graphql, startGateway, type TestGateway } from '../fixtures/gateway.js';
import { MY_CONSENTS } from '../fixtures/consentScenario.js';

const CLIENT = { id: 'consentry-pages', secret: 'consentry-pages-secret-0123456789' };
const OTHER_CLIENT = { id: 'some-other-app', secret: 'some-other-app-secret-0123456789', redirectUri: 'https://other-app.example/callback' };

/** Cookies per origin, enough to carry an OpenID sign-in across the two servers. */
class CookieJar {
  private byOrigin = new Map<string, Map<string, string>>();
  header(url: URL): string {
    return [...(this.byOrigin.get(url.origin) ?? new Map<string, string>())].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  store(url: URL, setCookies: string[]): void {
    const jar = this.byOrigin.get(url.origin) ?? new Map<string, string>();
    this.byOrigin.set(url.origin, jar);
    for (const line of setCookies) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const gone = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || (/^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]!) < Date.now()));
      if (gone) jar.delete(name);
      else jar.set(name, pair.slice(eq + 1).trim());
    }
  }
  get(origin: string, name: string): string | undefined {
    return this.byOrigin.get(origin)?.get(name);
  }
}

/** Follows redirects by hand (cookies included) until `stop` says so or a page answers. */
async function browse(start: string, jar: CookieJar, stop: (url: URL) => boolean = () => false): Promise<{ url: URL; status: number; body: string }> {
  let url = new URL(start);
  for (let hops = 0; hops < 15; hops++) {
    const res = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header(url) } });
    jar.store(url, res.headers.getSetCookie());
    const location = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || !location) return { url, status: res.status, body: await res.text() };
    url = new URL(location, url);
    if (stop(url)) return { url, status: res.status, body: '' };
  }
  throw new Error('too many redirects');
}

async function signingKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid: `k-${randomBytes(4).toString('hex')}`, alg: 'RS256', use: 'sig' };
}

describe.each(STORE_KINDS)('subjects signing in through a trusted OpenID provider on %s', (kind) => {
  let idp: Server;
  let issuer: string;
  let provider: Provider;
  let gw: TestGateway;
  let firstKey: JWK;
  /** Who the provider's login step signs in next. */
  let account = 'oidc-subject-1';

  /**
   * A real oidc-provider whose login and consent steps complete at once for
   * `account`, with a `roles` claim in ID tokens and in JWT access tokens for
   * the gateway (RFC 9068, audience the gateway).
   */
  function makeProvider(keys: JWK[]): Provider {
    const p = new Provider(issuer, {
      clients: [
        { client_id: CLIENT.id, client_secret: CLIENT.secret, redirect_uris: [`${gw.url}/signin/oidc/callback`], grant_types: ['authorization_code'], response_types: ['code'] },
        { client_id: OTHER_CLIENT.id, client_secret: OTHER_CLIENT.secret, redirect_uris: [OTHER_CLIENT.redirectUri], grant_types: ['authorization_code'], response_types: ['code'] },
      ],
      jwks: { keys },
      claims: { openid: ['sub', 'roles'] },
      conformIdTokenClaims: false,
      findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub, roles: ['subject'] }) }),
      interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
      features: {
        devInteractions: { enabled: false },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => gw.url,
          useGrantedResource: () => true,
          getResourceServerInfo: () => ({ scope: 'openid', audience: gw.url, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } }),
        },
      },
      extraTokenClaims: async () => ({ roles: ['subject'] }),
      cookies: { keys: ['test-cookie-signing-key'] },
    });
    return p;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.url?.startsWith('/interaction/')) {
      const details = await provider.interactionDetails(req, res);
      const grant = new provider.Grant({ accountId: account, clientId: String(details.params.client_id) });
      grant.addOIDCScope('openid');
      grant.addResourceScope(gw.url, 'openid');
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { login: { accountId: account }, consent: { grantId } }, { mergeWithLastSubmission: false });
      return;
    }
    provider.callback()(req, res);
  }

  /** The browser journey: /signin/oidc → provider → callback → /me. Returns the session cookie and the page. */
  async function signInThroughGateway(sub: string): Promise<{ session: string; page: { status: number; body: string; url: URL } }> {
    account = sub;
    const jar = new CookieJar();
    const page = await browse(`${gw.url}/signin/oidc?issuer=${encodeURIComponent(issuer)}&next=${encodeURIComponent('/me')}`, jar);
    const session = jar.get(gw.url, 'consentry_session');
    if (!session) throw new Error(`no session after sign-in; ended at ${page.url} (${page.status})`);
    return { session, page };
  }

  /** Starts the gateway's flow and stops when the provider sends the browser back: the callback URL and the pending cookie. */
  async function untilCallback(sub: string): Promise<{ callback: URL; jar: CookieJar }> {
    account = sub;
    const jar = new CookieJar();
    const landed = await browse(`${gw.url}/signin/oidc?issuer=${encodeURIComponent(issuer)}&next=%2Fme`, jar, (url) => url.pathname === '/signin/oidc/callback');
    return { callback: landed.url, jar };
  }

  /** What a subject's own app gets from the provider for the gateway's client: an ID token and a JWT access token. */
  async function providerTokens(clientId: string, clientSecret: string, redirectUri: string): Promise<{ id_token: string; access_token: string }> {
    const jar = new CookieJar();
    const verifier = randomBytes(32).toString('base64url');
    const auth = new URL(`${issuer}/auth`);
    auth.search = new URLSearchParams({
      client_id: clientId,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: redirectUri,
      state: 'st',
      nonce: 'nn',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString();
    account = 'oidc-subject-1';
    const landed = await browse(auth.toString(), jar, (url) => url.href.startsWith(redirectUri));
    const code = landed.url.searchParams.get('code');
    expect(code).toBeTruthy();
    const tokenRes = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: code!, redirect_uri: redirectUri, code_verifier: verifier }),
    });
    return (await tokenRes.json()) as { id_token: string; access_token: string };
  }

  beforeAll(async () => {
    idp = createServer((req, res) => {
      handle(req, res).catch((err) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    });
    await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(idp.address() as { port: number }).port}`;
    gw = await startGateway(kind, {
      env: {
        CONSENTRY_TRUSTED_ISSUERS: JSON.stringify([{ issuer, jwksUri: `${issuer}/jwks`, clientId: CLIENT.id, clientSecret: CLIENT.secret }]),
      },
    });
    firstKey = await signingKey();
    provider = makeProvider([firstKey]);
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  afterAll(async () => {
    await gw?.close();
    await new Promise((resolve) => idp?.close(resolve));
  });

  it('signs a subject in with openid-client and keeps a gateway-signed session, not the ID token', async () => {
    const { session, page } = await signInThroughGateway('oidc-subject-1');
    expect(page.url.toString()).toBe(`${gw.url}/me`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Signed in as oidc-subject-1');
    expect(decodeProtectedHeader(session)).toMatchObject({ typ: 'consentry-session+jwt' });
    expect(decodeJwt(session)).toMatchObject({ iss: gw.url, aud: gw.url, sub: 'oidc-subject-1', roles: ['subject'], idp: issuer });
    // A page session is not an API credential.
    expect((await graphql(gw.url, session, MY_CONSENTS, {})).status).toBe(401);
  });

  it('offers the provider on the sign-in page', async () => {
    const res = await fetch(`${gw.url}/signin?next=%2Fme`);
    expect(await res.text()).toContain(`href="/signin/oidc?issuer=${encodeURIComponent(issuer)}&amp;next=%2Fme"`);
  });

  it("refuses the provider's ID token as a bearer token and as a session, and accepts its access token for the gateway", async () => {
    const { id_token, access_token } = await providerTokens(CLIENT.id, CLIENT.secret, `${gw.url}/signin/oidc/callback`);
    expect(decodeJwt(id_token)).toMatchObject({ iss: issuer, aud: CLIENT.id, sub: 'oidc-subject-1', roles: ['subject'] });
    const refused = await graphql(gw.url, id_token, MY_CONSENTS, {});
    expect(refused).toEqual({
      status: 401,
      body: { errors: [{ message: 'Only access tokens (typ at+jwt, RFC 9068) are accepted as bearer tokens; an ID token is not one.', extensions: { code: 'UNAUTHENTICATED' } }] },
    });
    const page = await fetch(`${gw.url}/me`, { redirect: 'manual', headers: { cookie: `consentry_session=${id_token}` } });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/signin?next=%2Fme');

    expect(decodeProtectedHeader(access_token)).toMatchObject({ typ: 'at+jwt' });
    expect(decodeJwt(access_token)).toMatchObject({ iss: issuer, aud: gw.url, sub: 'oidc-subject-1' });
    expect(await graphql(gw.url, access_token, MY_CONSENTS, {})).toEqual({ status: 200, body: { data: { myConsents: [] } } });
  });

  it('refuses a callback whose pending-flow cookie was tampered with, or whose iss is not the provider (RFC 9207)', async () => {
    const { callback, jar } = await untilCallback('oidc-subject-1');
    expect(callback.searchParams.get('iss')).toBe(issuer);
    const pending = jar.get(gw.url, 'consentry_oidc')!;
    const [h, p] = pending.split('.');
    const forgedClaims = { ...decodeJwt(pending), next: '/compliance' };
    const tampered = `${h}.${Buffer.from(JSON.stringify(forgedClaims)).toString('base64url')}.${pending.split('.')[2]}`;
    expect(p).not.toBe(tampered.split('.')[1]);
    const signInFailed = '/signin?error=oidc&next=%2Fme';

    let res = await fetch(callback, { redirect: 'manual', headers: { cookie: `consentry_oidc=${tampered}` } });
    expect([res.status, res.headers.get('location')]).toEqual([303, signInFailed]);
    expect(res.headers.getSetCookie().join()).not.toContain('consentry_session=ey');

    const otherIss = new URL(callback);
    otherIss.searchParams.set('iss', 'https://mix-up.example');
    res = await fetch(otherIss, { redirect: 'manual', headers: { cookie: `consentry_oidc=${pending}` } });
    expect([res.status, res.headers.get('location')]).toEqual([303, signInFailed]);

    res = await fetch(callback, { redirect: 'manual', headers: { cookie: `consentry_oidc=${pending}` } });
    expect([res.status, res.headers.get('location')]).toEqual([303, '/me']);
    expect(res.headers.getSetCookie().join()).toContain('consentry_session=ey');
  });

  it('picks up a rotated provider key (unknown kid → JWKS refetched)', async () => {
    const before = await signInThroughGateway('oidc-subject-1');
    expect(before.page.status).toBe(200);

    const newKey = await signingKey();
    provider = makeProvider([newKey, firstKey]);
    // An unknown kid refetches the keys once they are a minute old (openid-client; the API verifier waits 30 s):
    // step past that instead of sleeping.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 61_000);

    const after = await signInThroughGateway('oidc-subject-2');
    expect(after.page.body).toContain('Signed in as oidc-subject-2');
    const { access_token } = await providerTokens(CLIENT.id, CLIENT.secret, `${gw.url}/signin/oidc/callback`);
    expect(decodeProtectedHeader(access_token).kid).toBe(newKey.kid);
    expect(await graphql(gw.url, access_token, MY_CONSENTS, {})).toEqual({ status: 200, body: { data: { myConsents: [] } } });
  });
});
