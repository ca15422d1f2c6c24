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

  /** A real oidc-provider whose login and consent steps complete at once for `account`, with a `roles` claim. */
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
      features: { devInteractions: { enabled: false } },
      cookies: { keys: ['test-cookie-signing-key'] },
    });
    return p;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.url?.startsWith('/interaction/')) {
      const details = await provider.interactionDetails(req, res);
      const grant = new provider.Grant({ accountId: account, clientId: String(details.params.client_id) });
      grant.addOIDCScope('openid');
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { login: { accountId: account }, consent: { grantId } }, { mergeWithLastSubmission: false });
      return;
    }
    provider.callback()(req, res);
  }

  /** The browser journey: /signin/oidc → provider → callback → /me. Returns the session token and the page. */
  async function signInThroughGateway(sub: string): Promise<{ token: string; page: { status: number; body: string; url: URL } }> {
    account = sub;
    const jar = new CookieJar();
    const page = await browse(`${gw.url}/signin/oidc?issuer=${encodeURIComponent(issuer)}&next=${encodeURIComponent('/me')}`, jar);
    const token = jar.get(gw.url, 'consentry_session');
    if (!token) throw new Error(`no session after sign-in; ended at ${page.url} (${page.status})`);
    return { token, page };
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

  it('signs a subject in with the authorization-code flow and accepts its ID token for myConsents', async () => {
    const { token, page } = await signInThroughGateway('oidc-subject-1');
    expect(page.url.toString()).toBe(`${gw.url}/me`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Signed in as oidc-subject-1');
    expect(decodeJwt(token)).toMatchObject({ iss: issuer, sub: 'oidc-subject-1', aud: CLIENT.id, roles: ['subject'] });
    expect(decodeProtectedHeader(token).kid).toBe(firstKey.kid);

    const res = await graphql(gw.url, token, MY_CONSENTS, {});
    expect(res).toEqual({ status: 200, body: { data: { myConsents: [] } } });
  });

  it('offers the provider on the sign-in page', async () => {
    const res = await fetch(`${gw.url}/signin?next=%2Fme`);
    expect(await res.text()).toContain(`href="/signin/oidc?issuer=${encodeURIComponent(issuer)}&amp;next=%2Fme"`);
  });

  it('rejects a token the provider issued to another client (wrong audience)', async () => {
    const jar = new CookieJar();
    const verifier = randomBytes(32).toString('base64url');
    const auth = new URL(`${issuer}/auth`);
    auth.search = new URLSearchParams({
      client_id: OTHER_CLIENT.id,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: OTHER_CLIENT.redirectUri,
      state: 'st',
      nonce: 'nn',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString();
    account = 'oidc-subject-1';
    const landed = await browse(auth.toString(), jar, (url) => url.origin === new URL(OTHER_CLIENT.redirectUri).origin);
    const code = landed.url.searchParams.get('code');
    expect(code).toBeTruthy();
    const tokenRes = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${OTHER_CLIENT.id}:${OTHER_CLIENT.secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: code!, redirect_uri: OTHER_CLIENT.redirectUri, code_verifier: verifier }),
    });
    const { id_token: foreign } = (await tokenRes.json()) as { id_token: string };
    expect(decodeJwt(foreign)).toMatchObject({ iss: issuer, aud: OTHER_CLIENT.id, roles: ['subject'] });

    const res = await graphql(gw.url, foreign, MY_CONSENTS, {});
    expect(res.status).toBe(401);
    expect(res.body.errors).toEqual([{ message: 'The token\'s "aud" claim is not acceptable (check_failed).', extensions: { code: 'UNAUTHENTICATED' } }]);
    const page = await fetch(`${gw.url}/me`, { redirect: 'manual', headers: { cookie: `consentry_session=${foreign}` } });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/signin?next=%2Fme');
  });

  it('picks up a rotated provider key (unknown kid → JWKS refetched)', async () => {
    const before = await signInThroughGateway('oidc-subject-1');
    expect((await graphql(gw.url, before.token, MY_CONSENTS, {})).status).toBe(200);

    const newKey = await signingKey();
    provider = makeProvider([newKey, firstKey]);
    // jose refetches a JWKS on an unknown kid at most every 30 s; step past that instead of sleeping.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 31_000);

    const after = await signInThroughGateway('oidc-subject-2');
    expect(decodeProtectedHeader(after.token).kid).toBe(newKey.kid);
    expect(after.page.body).toContain('Signed in as oidc-subject-2');
    expect(await graphql(gw.url, after.token, MY_CONSENTS, {})).toEqual({ status: 200, body: { data: { myConsents: [] } } });
  });
});
