import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { approveConsentRequest } from '../consent/approveConsentRequest.js';
import { consentDepsOf } from '../consent/consentDeps.js';
import { readConsentRequest, type ConsentRequestRecord } from '../consent/consentRequests.js';
import { declineConsentRequest } from '../consent/declineConsentRequest.js';
import { BadUserInputError, NotFoundError } from '../errors.js';
import { partnerProfile } from '../partners/partnerDirectory.js';
import { consentPageBody, decisionResultBody } from './consentPageView.js';
import { messagesFor, type Lang } from './i18n.js';
import { pageNav, sendBadForm, sendNotFound, sendPage } from './pageReply.js';
import { registryText } from './registryText.js';
import type { WebDeps } from './webDeps.js';
import { csrfMatches, type WebSession } from './session.js';
import { requireSubject, subjectIdOf } from './pagePreamble.js';

/**
 * `/consent/:requestId`, where the addressed subject approves (some of) or
 * declines a partner's request; and the subject's own pages under `/me`.
 */
export function registerConsentPages(app: FastifyInstance, web: WebDeps): void {
  const { services } = web;
  const deps = consentDepsOf(services);

  app.get<{ Params: { requestId: string } }>('/consent/:requestId', async (request, reply) => {
    const { lang } = request.page;
    const session = await requireSubject(request, reply);
    if (!session) return reply;
    const consentRequest = await readConsentRequest(deps, request.params.requestId, { subjectId: subjectIdOf(session) });
    if (!consentRequest) return sendNotFound(reply, request, lang, session);
    return renderConsentPage(request, reply, { lang, session, consentRequest, ticked: consentRequest.categories, status: 200 });
  });

  app.post<{ Params: { requestId: string } }>('/consent/:requestId', async (request, reply) => {
    const { lang } = request.page;
    const session = await requireSubject(request, reply);
    if (!session) return reply;
    const form = (request.body ?? {}) as Record<string, unknown>;
    if (!csrfMatches(session, form.csrf)) return sendBadForm(reply, request, lang, session);
    const subjectId = subjectIdOf(session);
    const requestId = request.params.requestId;
    const ticked = asList(form.categories);
    try {
      let outcome: 'approved' | 'declined';
      if (form.decision === 'decline') {
        await declineConsentRequest(deps, { requestId, subjectId, channel: 'page' });
        outcome = 'declined';
      } else if (!ticked.length) {
        const current = await readConsentRequest(deps, requestId, { subjectId });
        if (!current) return sendNotFound(reply, request, lang, session);
        const error = messagesFor(lang).selectAtLeastOne;
        return renderConsentPage(request, reply, { lang, session, consentRequest: current, ticked, status: 400, error });
      } else {
        await approveConsentRequest(deps, { requestId, subjectId, categories: ticked, channel: 'page' });
        outcome = 'approved';
      }
      const decided = (await readConsentRequest(deps, requestId, { subjectId }))!;
      if (decided.redirectUri) return reply.redirect(partnerReturnUrl(decided.redirectUri, requestId, outcome), 303);
      const partner = (await partnerProfile(services.db, decided.partnerId))!;
      const m = messagesFor(lang);
      return sendPage(reply, 200, { title: m.resultTitle, lang, nav: pageNav(request, lang, session), body: decisionResultBody(m, partner, outcome) });
    } catch (err) {
      if (err instanceof NotFoundError) return sendNotFound(reply, request, lang, session);
      if (!(err instanceof BadUserInputError)) throw err;
      // Decided meanwhile (another tab), lapsed, or a tampered form: show the request as it now stands.
      const current = await readConsentRequest(deps, requestId, { subjectId });
      if (!current) return sendNotFound(reply, request, lang, session);
      return renderConsentPage(request, reply, { lang, session, consentRequest: current, ticked, status: 409 });
    }
  });


  async function renderConsentPage(
    request: FastifyRequest,
    reply: FastifyReply,
    view: { lang: Lang; session: WebSession; consentRequest: ConsentRequestRecord; ticked: readonly string[]; status: number; error?: string },
  ) {
    const partner = await partnerProfile(services.db, view.consentRequest.partnerId);
    if (!partner) return sendNotFound(reply, request, view.lang, view.session);
    const m = messagesFor(view.lang);
    const body = consentPageBody({
      request: view.consentRequest,
      partner,
      text: await registryText(services.db, view.lang),
      m,
      csrfToken: view.session.csrfToken,
      ticked: view.ticked,
      error: view.error,
    });
    return sendPage(reply, view.status, { title: m.consentTitle(partner.name), lang: view.lang, nav: pageNav(request, view.lang, view.session), body });
  }
}

/** The partner's registered page, told which request was answered and how. */
function partnerReturnUrl(redirectUri: string, requestId: string, outcome: 'approved' | 'declined'): string {
  const url = new URL(redirectUri);
  url.searchParams.set('request_id', requestId);
  url.searchParams.set('outcome', outcome);
  return url.toString();
}

function asList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
