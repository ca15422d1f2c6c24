import type { FastifyInstance } from 'fastify';
import { subjectAccessLog, type AccessLogPage } from '../consent/accessLog.js';
import { consentDepsOf } from '../consent/consentDeps.js';
import { verifyReceipt } from '../consent/receipts.js';
import { revokeConsent } from '../consent/revokeConsent.js';
import { consentStatus, findMyConsent, listMyConsents, listMyPendingRequests, type ConsentRecord } from '../consent/subjectConsents.js';
import { partnerNames } from '../partners/partnerDirectory.js';
import { BadUserInputError, NotFoundError } from '../errors.js';
import { messagesFor } from './i18n.js';
import { myDataBody, receiptBody, revokeConfirmBody, type ConsentRow } from './myDataView.js';
import { pageNav, sendBadForm, sendNotFound, sendPage } from './pageReply.js';
import { registryText } from './registryText.js';
import type { WebDeps } from './webDeps.js';
import { csrfMatches, type WebSession } from './session.js';
import { requireSubject, subjectIdOf } from './pagePreamble.js';

const ACCESS_LOG_PAGE_SIZE = 20;

/** The subject's own page: consents, who read what, revocation with confirmation, receipts. */
export function registerMyDataPages(app: FastifyInstance, web: WebDeps): void {
  const { services } = web;
  const deps = consentDepsOf(services);

  app.get('/me', async (request, reply) => {
    const { lang } = request.page;
    const session = await requireSubject(request, reply);
    if (!session) return reply;
    const subjectId = subjectIdOf(session);
    const query = request.query as Record<string, unknown>;
    const after = typeof query.after === 'string' ? query.after : null;
    const now = services.clock();
    const [consents, accessLog, text, pending] = await Promise.all([
      listMyConsents(deps, subjectId, true),
      accessLogPage(subjectId, after),
      registryText(services.db, lang),
      listMyPendingRequests(deps, subjectId),
    ]);
    const partnerNames = await namesOf([...consents, ...pending].map((c) => c.partnerId));
    const rows: ConsentRow[] = consents.map((c) => ({ consent: c, status: consentStatus(c, now), partnerName: partnerNames.get(c.partnerId) ?? c.partnerId }));
    const revoked = rows.find((r) => r.consent.id === query.revoked && r.status === 'REVOKED');
    const m = messagesFor(lang);
    const body = myDataBody({
      lang,
      m,
      text,
      subjectId,
      pending: pending.map((request) => ({ request, partnerName: partnerNames.get(request.partnerId) ?? request.partnerId })),
      active: rows.filter((r) => r.status === 'ACTIVE'),
      past: rows.filter((r) => r.status !== 'ACTIVE'),
      accessLog,
      olderPage: Boolean(after),
      notice: revoked ? m.revokedNotice(revoked.partnerName) : query.erased === 'done' ? m.erasedNotice : query.erased === 'nothing' ? m.eraseNothing : undefined,
    });
    return sendPage(reply, 200, { title: m.meTitle, lang, nav: pageNav(request, lang, session), body });
  });

  app.get<{ Params: { consentId: string } }>('/me/consents/:consentId/revoke', async (request, reply) => {
    const { lang } = request.page;
    const session = await requireSubject(request, reply);
    if (!session) return reply;
    const consent = await ownConsent(session, request.params.consentId);
    if (!consent) return sendNotFound(reply, request, lang, session);
    if (consentStatus(consent, services.clock()) !== 'ACTIVE') return reply.redirect('/me', 303);
    const m = messagesFor(lang);
    const partnerName = (await namesOf([consent.partnerId])).get(consent.partnerId) ?? consent.partnerId;
    const text = await registryText(services.db, lang);
    const body = revokeConfirmBody({ lang, m, text, consent, partnerName, csrfToken: session.csrfToken });
    return sendPage(reply, 200, { title: m.revokeTitle, lang, nav: pageNav(request, lang, session), body });
  });

  app.post<{ Params: { consentId: string } }>('/me/consents/:consentId/revoke', async (request, reply) => {
    const { lang } = request.page;
    const session = await requireSubject(request, reply);
    if (!session) return reply;
    if (!csrfMatches(session, (request.body as Record<string, unknown> | undefined)?.csrf)) return sendBadForm(reply, request, lang, session);
    const consentId = request.params.consentId;
    try {
      await revokeConsent(deps, { consentId, actor: { type: 'subject', id: subjectIdOf(session) }, channel: 'page' });
    } catch (err) {
      if (err instanceof NotFoundError) return sendNotFound(reply, request, lang, session);
      // Already revoked or run out: the overview shows how it stands.
      if (err instanceof BadUserInputError) return reply.redirect('/me', 303);
      throw err;
    }
    return reply.redirect(`/me?revoked=${encodeURIComponent(consentId)}`, 303);
  });

  app.get<{ Params: { consentId: string } }>('/me/receipts/:consentId', async (request, reply) => {
    const { lang } = request.page;
    const session = await requireSubject(request, reply);
    if (!session) return reply;
    const consent = await ownConsent(session, request.params.consentId);
    if (!consent) return sendNotFound(reply, request, lang, session);
    // Checked against the published keys, as a third party would check it.
    const { kid, claims } = await verifyReceipt(consent.receipt, await services.keys.jwks());
    const m = messagesFor(lang);
    const body = receiptBody({ lang, m, text: await registryText(services.db, lang), consent, claims, kid });
    return sendPage(reply, 200, { title: m.receiptTitle, lang, nav: pageNav(request, lang, session), body });
  });

  app.get<{ Params: { consentId: string } }>('/me/receipts/:consentId/download', async (request, reply) => {
    const { lang } = request.page;
    const session = await requireSubject(request, reply);
    if (!session) return reply;
    const consent = await ownConsent(session, request.params.consentId);
    if (!consent) return sendNotFound(reply, request, lang, session);
    return reply
      .header('content-type', 'application/jose; charset=utf-8')
      .header('content-disposition', `attachment; filename="consent-${consent.id}.jws"`)
      .header('cache-control', 'no-store')
      .send(consent.receipt);
  });

  const ownConsent = (session: WebSession, consentId: string): Promise<ConsentRecord | undefined> => findMyConsent(deps, subjectIdOf(session), consentId);
  const namesOf = (partnerIds: string[]) => partnerNames(services.db, partnerIds);

  /** An unreadable cursor (edited by hand, or from an old link) shows the newest page rather than an error. */
  async function accessLogPage(subjectId: string, after: string | null): Promise<AccessLogPage> {
    try {
      return await subjectAccessLog(services.db, services.pseudonyms, subjectId, { first: ACCESS_LOG_PAGE_SIZE, after });
    } catch (err) {
      if (err instanceof BadUserInputError) return subjectAccessLog(services.db, services.pseudonyms, subjectId, { first: ACCESS_LOG_PAGE_SIZE });
      throw err;
    }
  }
}

