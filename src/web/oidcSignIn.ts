import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as oidc from 'openid-client';
import { parseRoles } from '../auth/gatewayTokens.js';
import type { Config, TrustedIssuer } from '../config.js';
import type { WebDeps } from './webDeps.js';
import { safeNextPath, startSession } from './session.js';

const PENDING_COOKIE = 'consentry_oidc';
const PENDING_PATH = '/signin/oidc';
const PENDING_MAX_AGE_SECONDS = 600;
export const OIDC_CALLBACK_PATH = '/signin/oidc/callback';
const DISCOVERY_TTL_MS = 60 * 60_000;
const HTTP_TIMEOUT_SECONDS = 10;

type SignInIssuer = TrustedIssuer & { clientId: string; displayName: string };

/** Trusted issuers a subject can sign in through: those configured with a client id. */
export function signInIssuers(config: Config): SignInIssuer[] {
  return config.trustedIssuers
    .filter((i): i is TrustedIssuer & { clientId: string } => typeof i.clientId === 'string' && i.clientId.length > 0)
    .map((i) => ({ ...i, displayName: new URL(i.issuer).host }));
}

/**
 * `GET /signin/oidc?issuer=...&next=...` starts the authorization-code flow
 * with PKCE; `GET /signin/oidc/callback` finishes it. The relying party is
 * openid-client: discovery with the issuer pinned, state, nonce, the RFC 9207
 * `iss` check on the authorization response, and the ID token's signature and
 * claims. The pending flow's secrets travel in a cookie the gateway signed, so
 * the callback cannot be fed values the gateway never chose. The ID token
 * itself is not kept: it becomes a gateway-signed page session, which no API
 * accepts as a bearer token.
 */
export function registerOidcSignIn(app: FastifyInstance, deps: WebDeps): void {
  const { services, statements } = deps;
  const redirectUri = `${services.config.issuer}${OIDC_CALLBACK_PATH}`;
  const providers = new Map(signInIssuers(services.config).map((i) => [i.issuer, new ProviderClient(i, services.config.nodeEnv)]));
  const secure = services.config.issuer.startsWith('https:');
  const failed = (reply: FastifyReply, next: string) => reply.redirect(`/signin?error=oidc&next=${encodeURIComponent(next)}`, 303);

  app.get(PENDING_PATH, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const next = safeNextPath(query.next);
    const provider = typeof query.issuer === 'string' ? providers.get(query.issuer) : undefined;
    if (!provider) return reply.code(404).send();
    try {
      const config = await provider.configuration();
      const pending = { idp: provider.issuer.issuer, state: oidc.randomState(), nonce: oidc.randomNonce(), cv: oidc.randomPKCECodeVerifier(), next };
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: 'openid',
        state: pending.state,
        nonce: pending.nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(pending.cv),
        code_challenge_method: 'S256',
      });
      const sealed = await statements.sign('consentry-oidc-pending+jwt', pending, new Date(services.clock().getTime() + PENDING_MAX_AGE_SECONDS * 1000));
      // Lax: the callback is a top-level navigation from the issuer's site.
      reply.setCookie(PENDING_COOKIE, sealed, { path: PENDING_PATH, httpOnly: true, sameSite: 'lax', secure, maxAge: PENDING_MAX_AGE_SECONDS });
      return reply.redirect(url.href, 303);
    } catch (err) {
      services.logger.warn({ err, issuer: provider.issuer.issuer }, 'OpenID sign-in could not start');
      return failed(reply, next);
    }
  });

  app.get(OIDC_CALLBACK_PATH, async (request, reply) => {
    const pending = await readPending(request);
    reply.clearCookie(PENDING_COOKIE, { path: PENDING_PATH });
    const next = pending?.next ?? '/me';
    const provider = pending ? providers.get(pending.idp) : undefined;
    if (!pending || !provider) return failed(reply, next);
    try {
      const tokens = await oidc.authorizationCodeGrant(await provider.configuration(), new URL(`${services.config.issuer}${request.url}`), {
        pkceCodeVerifier: pending.cv,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      const claims = tokens.claims()!;
      const roles = parseRoles(claims.roles);
      await startSession(reply, deps, { sub: claims.sub, roles, issuer: claims.iss }, new Date(claims.exp * 1000));
      return reply.redirect(next, 303);
    } catch (err) {
      services.logger.warn({ err, issuer: pending.idp }, 'OpenID sign-in failed');
      return failed(reply, next);
    }
  });

  async function readPending(request: FastifyRequest) {
    const cookie = request.cookies[PENDING_COOKIE];
    const claims = cookie ? await statements.verify('consentry-oidc-pending+jwt', cookie) : undefined;
    if (!claims || ![claims.idp, claims.state, claims.nonce, claims.cv].every((v) => typeof v === 'string')) return undefined;
    return { idp: claims.idp as string, state: claims.state as string, nonce: claims.nonce as string, cv: claims.cv as string, next: safeNextPath(claims.next) };
  }
}

/** One provider's openid-client configuration, discovered on first use and refreshed hourly (key and endpoint changes). */
class ProviderClient {
  private discovered?: { config: oidc.Configuration; at: number };

  constructor(
    readonly issuer: SignInIssuer,
    private readonly nodeEnv: Config['nodeEnv'],
  ) {}

  async configuration(): Promise<oidc.Configuration> {
    if (this.discovered && Date.now() - this.discovered.at < DISCOVERY_TTL_MS) return this.discovered.config;
    // Plain http only for a provider on this machine outside production (tests, local development).
    const insecure = this.nodeEnv !== 'production' && new URL(this.issuer.issuer).protocol === 'http:';
    const config = await oidc.discovery(new URL(this.issuer.issuer), this.issuer.clientId, this.issuer.clientSecret, undefined, {
      timeout: HTTP_TIMEOUT_SECONDS,
      // The ID token's signature is checked against the provider's keys too, not only its claims.
      execute: [oidc.enableNonRepudiationChecks, ...(insecure ? [oidc.allowInsecureRequests] : [])],
    });
    this.discovered = { config, at: Date.now() };
    return config;
  }
}
