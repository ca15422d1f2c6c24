import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Lang } from './i18n.js';
import { pageLanguage } from './language.js';
import { readSession, type WebSession } from './session.js';
import type { WebDeps } from './webDeps.js';

/** What every page handler starts from, settled once per request by the preamble hook. */
export interface PageContext {
  lang: Lang;
  /** The signed-in person, if any; handlers that need a role check it (requireSubject, the officers' guard). */
  session?: WebSession;
}

declare module 'fastify' {
  interface FastifyRequest {
    page: PageContext;
  }
}

/** The preHandler every page route runs: language, then session. */
export function pagePreamble(deps: WebDeps) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const lang = pageLanguage(request, reply);
    request.page = { lang, session: await readSession(request, deps) };
  };
}

/**
 * The signed-in subject, or undefined after redirecting to sign-in (with a
 * way back to this page). Someone signed in without the subject role is sent
 * to sign in again as a subject.
 */
export async function requireSubject(request: FastifyRequest, reply: FastifyReply): Promise<WebSession | undefined> {
  const { session } = request.page;
  if (session?.principal.roles.has('subject')) return session;
  const back = request.method === 'GET' ? request.url : new URL(request.url, 'http://page.invalid').pathname;
  await reply.redirect(`/signin?next=${encodeURIComponent(back)}`, 303);
  return undefined;
}

/** The session's subject id. */
export const subjectIdOf = (session: WebSession): string => session.principal.sub;
