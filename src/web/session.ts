import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { authenticate } from '../auth/authenticate.js';
import { parseRoles } from '../auth/gatewayTokens.js';
import type { Principal, UserRole } from '../auth/principal.js';
import type { WebDeps } from './webDeps.js';

export const SESSION_COOKIE = 'consentry_session';
const SESSION_TYPE = 'consentry-session+jwt';

type UserPrincipal = Extract<Principal, { kind: 'user' }>;

/** A signed-in person on the pages (subject, compliance officer). */
export interface WebSession {
  principal: UserPrincipal;
  /** Goes into every form; a cross-site page cannot know it. */
  csrfToken: string;
}

/**
 * The session cookie (httpOnly, SameSite=Lax) holds a gateway-signed session
 * statement after sign-in, or, outside production, a token from
 * `consentry token` pasted into the form. Either way it ends when what it
 * was made from ends, and the ID token of an OpenID sign-in is never kept.
 * The CSRF token is derived from the cookie: stateless, and useless without
 * reading the cookie.
 */
export async function readSession(request: FastifyRequest, deps: WebDeps): Promise<WebSession | undefined> {
  const token = request.cookies[SESSION_COOKIE];
  if (!token) return undefined;
  try {
    const claims = await deps.statements.verify(SESSION_TYPE, token);
    if (claims) {
      const principal: UserPrincipal = { kind: 'user', sub: String(claims.sub), roles: parseRoles(claims.roles), issuer: String(claims.idp) };
      return { principal, csrfToken: csrfTokenFor(token) };
    }
    const principal = await authenticate({ authorization: `Bearer ${token}`, method: request.method, url: request.url }, deps.authenticators);
    if (principal?.kind !== 'user') return undefined;
    return { principal, csrfToken: csrfTokenFor(token) };
  } catch {
    return undefined;
  }
}

/** Signs a session for someone whose identity was just established, lasting until `expiresAt`. */
export async function startSession(
  reply: FastifyReply,
  deps: WebDeps,
  who: { sub: string; roles: ReadonlySet<UserRole>; issuer: string },
  expiresAt: Date,
): Promise<void> {
  const token = await deps.statements.sign(SESSION_TYPE, { sub: who.sub, roles: [...who.roles], idp: who.issuer }, expiresAt);
  const maxAge = Math.max(1, Math.floor((expiresAt.getTime() - deps.services.clock().getTime()) / 1000));
  reply.setCookie(SESSION_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'lax', secure: deps.services.config.issuer.startsWith('https:'), maxAge });
}

export function csrfTokenFor(sessionToken: string): string {
  return createHash('sha256').update(`consentry-csrf:${sessionToken}`).digest('base64url');
}

/** Checks a submitted form's CSRF field against the session. */
export function csrfMatches(session: WebSession, submitted: unknown): boolean {
  if (typeof submitted !== 'string') return false;
  const a = Buffer.from(session.csrfToken);
  const b = Buffer.from(submitted);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/' });
}

/** Only same-site paths, so the sign-in form cannot be used as an open redirect. */
export function safeNextPath(next: unknown, fallback = '/me'): string {
  return typeof next === 'string' && /^\/(?!\/)[\w\-./?=&%]*$/.test(next) ? next : fallback;
}
