import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../services.js';
import type { WebOptions } from './routes.js';
import { readSession, type WebSession } from './session.js';

/**
 * The signed-in subject, or undefined after redirecting to sign-in (with a
 * way back to this page). Someone signed in without the subject role is sent
 * to sign in again as a subject.
 */
export async function requireSubject(
  request: FastifyRequest,
  reply: FastifyReply,
  services: Services,
  options: WebOptions,
): Promise<WebSession | undefined> {
  const session = await readSession(request, services, options.authenticators);
  if (session?.principal.roles.has('subject')) return session;
  const back = request.method === 'GET' ? request.url : new URL(request.url, 'http://page.invalid').pathname;
  await reply.redirect(`/signin?next=${encodeURIComponent(back)}`, 303);
  return undefined;
}

/** The session's subject id. */
export const subjectIdOf = (session: WebSession): string => session.principal.sub;
