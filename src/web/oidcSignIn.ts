import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { decodeJwt } from 'jose';
import type { Config, TrustedIssuer } from '../config.js';
import type { Services } from '../services.js';
import { OidcClient, type PendingAuthorization } from './oidcClient.js';
import type { WebOptions } from './routes.js';
import { safeNextPath } from './session.js';

const PENDING_COOKIE = 'consentry_oidc';
const PENDING_PATH = '/signin/oidc';
const PENDING_MAX_AGE_SECONDS = 600;
export const OIDC_CALLBACK_PATH = '/signin/oidc/callback';

/** Trusted issuers a subject can sign in through: those configured with a client id. */
export function signInIssuers(config: Config): (TrustedIssuer & { clientId: string; displayName: string })[] {
  return config.trustedIssuers
    .filter((i): i is TrustedIssuer & { clientId: string } => typeof i.clientId === 'string' && i.clientId.length > 0)
    .map((i) => ({ ...i, displayName: new URL(i.issuer).host }));
}

/**
 * `GET /signin/oidc?issuer=...&next=...` starts the authorization-code flow
 * with PKCE; `GET /signin/oidc/callback` finishes it. The ID token is checked
 * by the same verifier as API bearer tokens (issuer, audience, algorithms
 * pinned; JWKS cached and refetched on an unknown kid), then its nonce, and
 * becomes the session.
 */
export function registerOidcSignIn(
  app: FastifyInstance,
  services: Services,
  options: WebOptions,
  startSession: (reply: FastifyReply, token: string) => void,
): void {
  const redirectUri = `${services.config.issuer}${OIDC_CALLBACK_PATH}`;
  const clients = new Map(signInIssuers(services.config).map((i) => [i.issuer, new OidcClient(i, redirectUri)]));
  const secure = services.config.issuer.startsWith('https:');
  const failed = (reply: FastifyReply, next: string) => reply.redirect(`/signin?error=oidc&next=${encodeURIComponent(next)}`, 303);

  app.get(PENDING_PATH, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const next = safeNextPath(query.next);
    const client = typeof query.issuer === 'string' ? clients.get(query.issuer) : undefined;
    if (!client) return reply.code(404).send();
    try {
      const { url, pending } = await client.authorizationRequest(next);
      reply.setCookie(PENDING_COOKIE, Buffer.from(JSON.stringify(pending)).toString('base64url'), {
        path: PENDING_PATH,
        httpOnly: true,
        // Lax: the callback is a top-level navigation from the issuer's site.
        sameSite: 'lax',
        secure,
        maxAge: PENDING_MAX_AGE_SECONDS,
      });
      return reply.redirect(url, 303);
    } catch (err) {
      services.logger.warn({ err, issuer: client.config.issuer }, 'OpenID sign-in could not start');
      return failed(reply, next);
    }
  });

  app.get(OIDC_CALLBACK_PATH, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const pending = readPending(request.cookies[PENDING_COOKIE]);
    reply.clearCookie(PENDING_COOKIE, { path: PENDING_PATH });
    const next = pending?.next ?? '/me';
    const client = pending ? clients.get(pending.issuer) : undefined;
    if (!pending || !client || typeof query.state !== 'string' || !sameString(query.state, pending.state) || typeof query.code !== 'string') {
      return failed(reply, next);
    }
    try {
      const idToken = await client.exchangeCode(query.code, pending.codeVerifier);
      const principal = await options.externalVerifier?.verify(idToken);
      const claims = decodeJwt(idToken);
      // The verifier accepted the token; these bind it to this very authorization request.
      if (principal?.kind !== 'user' || claims.iss !== pending.issuer || typeof claims.nonce !== 'string' || !sameString(claims.nonce, pending.nonce)) {
        return failed(reply, next);
      }
      startSession(reply, idToken);
      return reply.redirect(next, 303);
    } catch (err) {
      services.logger.warn({ err, issuer: pending.issuer }, 'OpenID sign-in failed');
      return failed(reply, next);
    }
  });
}

function readPending(cookie: string | undefined): PendingAuthorization | undefined {
  if (!cookie) return undefined;
  try {
    const p = JSON.parse(Buffer.from(cookie, 'base64url').toString('utf8')) as Partial<PendingAuthorization>;
    if ([p.issuer, p.state, p.nonce, p.codeVerifier, p.next].every((v) => typeof v === 'string')) {
      return { ...(p as PendingAuthorization), next: safeNextPath(p.next) };
    }
  } catch {
    // A damaged cookie is treated like a missing one.
  }
  return undefined;
}

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
