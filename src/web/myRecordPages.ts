import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticate } from '../auth/authenticate.js';
import { consentDepsOf } from '../consent/consentDeps.js';
import { AuditUnavailableError, ForbiddenError, NotFoundError, isConsentryError } from '../errors.js';
import { eraseSubject } from '../subjects/eraseSubject.js';
import { subjectRecord, type SubjectRecordFormat } from '../subjects/subjectRecord.js';
import { messagesFor } from './i18n.js';
import { eraseConfirmBody } from './myDataView.js';
import { requireSubject, subjectIdOf } from './pagePreamble.js';
import { pageNav, sendBadForm, sendPage, sendUnavailable } from './pageReply.js';
import { csrfMatches } from './session.js';
import type { WebDeps } from './webDeps.js';

/** The reason recorded when subjects erase themselves on their page. */
export const SELF_ERASURE_REASON = 'asked by the subject on the my-data page';

/**
 * The subject's two rights beyond viewing and withdrawing: a copy of the
 * whole record (`/me/record.json`, `/me/record.csv`, with the page session or
 * a subject bearer token, which is what the GraphQL `myRecord` links need) and
 * erasure, confirmed on a page that says what will happen.
 */
export function registerMyRecordPages(app: FastifyInstance, web: WebDeps): void {
  const { services } = web;
  const deps = consentDepsOf(services);

  app.get<{ Params: { format: string } }>('/me/record.:format', async (request, reply) => {
    const format = request.params.format;
    if (format !== 'json' && format !== 'csv') return reply.code(404).type('text/plain').send('Not found.');
    const bearer = !!request.headers.authorization;
    const subjectId = bearer ? await bearerSubject(request, reply) : await sessionSubject(request, reply);
    if (!subjectId) return reply;
    let chunks: AsyncGenerator<string>;
    try {
      chunks = await subjectRecord(deps, subjectId, { format, channel: bearer ? 'api' : 'page' });
    } catch (err) {
      // The download is an access: if it cannot be audited, nothing is sent.
      if (err instanceof AuditUnavailableError) return unavailable(request, reply, bearer, err);
      throw err;
    }
    const stamp = services.clock().toISOString().slice(0, 10);
    return reply
      .header('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8')
      .header('content-disposition', `attachment; filename="my-consentry-record-${stamp}.${format}"`)
      .header('cache-control', 'no-store')
      .send(Readable.from(chunks));
  });

  app.get('/me/erase', async (request, reply) => {
    const { lang } = request.page;
    const session = await requireSubject(request, reply);
    if (!session) return reply;
    const m = messagesFor(lang);
    return sendPage(reply, 200, { title: m.eraseTitle, lang, nav: pageNav(request, lang, session), body: eraseConfirmBody({ m, csrfToken: session.csrfToken }) });
  });

  app.post('/me/erase', async (request, reply) => {
    const { lang } = request.page;
    const session = await requireSubject(request, reply);
    if (!session) return reply;
    if (!csrfMatches(session, (request.body as Record<string, unknown> | undefined)?.csrf)) return sendBadForm(reply, request, lang, session);
    try {
      await eraseSubject(deps, { subjectId: subjectIdOf(session), reason: SELF_ERASURE_REASON, actor: { type: 'subject', id: subjectIdOf(session) }, channel: 'page' });
    } catch (err) {
      if (err instanceof NotFoundError) return reply.redirect('/me?erased=nothing', 303);
      if (err instanceof AuditUnavailableError) return sendUnavailable(reply, request, lang, 5);
      throw err;
    }
    return reply.redirect('/me?erased=done', 303);
  });

  async function sessionSubject(request: FastifyRequest, reply: FastifyReply): Promise<string | undefined> {
    const session = await requireSubject(request, reply);
    return session && subjectIdOf(session);
  }

  /** A subject bearer token, as GraphQL takes it; refusals in the GraphQL error shape. */
  async function bearerSubject(request: FastifyRequest, reply: FastifyReply): Promise<string | undefined> {
    try {
      const principal = await authenticate(
        { authorization: request.headers.authorization, dpop: request.headers.dpop, method: request.method, url: `${services.config.issuer}${request.url}` },
        web.authenticators,
      );
      if (principal?.kind === 'user' && principal.roles.has('subject')) return principal.sub;
      throw new ForbiddenError('Downloading a record requires the subject role.');
    } catch (err) {
      if (!isConsentryError(err)) throw err;
      const status = err.code === 'FORBIDDEN' ? 403 : err.httpStatus;
      await reply.code(status).send({ errors: [{ message: err.message, extensions: { code: err.code } }] });
      return undefined;
    }
  }

  function unavailable(request: FastifyRequest, reply: FastifyReply, bearer: boolean, err: AuditUnavailableError): FastifyReply {
    if (!bearer) return sendUnavailable(reply, request, request.page.lang, 5);
    return reply.code(503).header('retry-after', '5').send({ errors: [{ message: err.message, extensions: { code: err.code } }] });
  }
}
