import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { authenticate, type Authenticators } from '../auth/authenticate.js';
import type { Principal } from '../auth/principal.js';
import type { Services } from '../services.js';

export const SESSION_COOKIE = 'consentry_session';

/** A signed-in person on the pages (subject, compliance officer). */
export interface WebSession {
  principal: Extract<Principal, { kind: 'user' }>;
  /** Goes into every form; a cross-site page cannot know it. */
  csrfToken: string;
}

/**
 * The session cookie holds the verified bearer token itself (httpOnly,
 * SameSite=Lax), so the session ends when the token does and every request is
 * checked against the same keys as the API. The CSRF token is derived from
 * the session token: stateless, and useless without reading the cookie.
 */
export async function readSession(
  request: FastifyRequest,
  services: Services,
  authenticators: Authenticators,
): Promise<WebSession | undefined> {
  const token = request.cookies[SESSION_COOKIE];
  if (!token) return undefined;
  try {
    const principal = await authenticate({ authorization: `Bearer ${token}`, method: request.method, url: request.url }, authenticators);
    if (principal?.kind !== 'user') return undefined;
    return { principal, csrfToken: csrfTokenFor(token) };
  } catch {
    return undefined;
  }
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

export function setSessionCookie(reply: FastifyReply, token: string, secure: boolean, maxAgeSeconds: number): void {
  reply.setCookie(SESSION_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'lax', secure, maxAge: maxAgeSeconds });
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/' });
}

/** Only same-site paths, so the sign-in form cannot be used as an open redirect. */
export function safeNextPath(next: unknown, fallback = '/me'): string {
  return typeof next === 'string' && /^\/(?!\/)[\w\-./?=&%]*$/.test(next) ? next : fallback;
}
