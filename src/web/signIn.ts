import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';
import { authenticate } from '../auth/authenticate.js';
import type { Services } from '../services.js';
import { html } from './html.js';
import { messagesFor, type Lang } from './i18n.js';
import { pageLanguage } from './language.js';
import { registerOidcSignIn, signInIssuers } from './oidcSignIn.js';
import { pageNav, sendBadForm, sendPage } from './pageReply.js';
import type { WebOptions } from './routes.js';
import { clearSessionCookie, csrfMatches, readSession, safeNextPath, setSessionCookie } from './session.js';

/** Double-submit token for the sign-in form, so another site cannot sign a visitor in as someone else. */
const SIGNIN_CSRF_COOKIE = 'consentry_signin_csrf';

/**
 * Sign-in and sign-out. Subjects sign in through a trusted OpenID issuer; outside
 * production a token from `consentry token` can be pasted instead. Either
 * way the session cookie holds the verified token itself.
 */
export function registerSignIn(app: FastifyInstance, services: Services, options: WebOptions): void {
  const tokenSignInAllowed = services.config.nodeEnv !== 'production';
  const secureCookies = services.config.issuer.startsWith('https:');

  app.get('/signin', async (request, reply) => {
    const lang = pageLanguage(request, reply);
    const query = request.query as Record<string, unknown>;
    const error = query.error === 'oidc' ? messagesFor(lang).oidcFailed : undefined;
    return signInPage(request, reply, lang, safeNextPath(query.next), 200, error);
  });

  app.post('/signin', async (request, reply) => {
    const lang = pageLanguage(request, reply);
    const form = formOf(request);
    const next = safeNextPath(form.next);
    if (!tokenSignInAllowed) return reply.code(404).send();
    const expected = request.cookies[SIGNIN_CSRF_COOKIE];
    if (!expected || form.csrf !== expected) return sendBadForm(reply, request, lang);
    const token = typeof form.token === 'string' ? form.token.trim() : '';
    const principal = await authenticate({ authorization: `Bearer ${token}`, method: request.method, url: request.url }, options.authenticators).catch(() => undefined);
    if (principal?.kind !== 'user') return signInPage(request, reply, lang, next, 401, messagesFor(lang).tokenInvalid);
    startSession(reply, token, services, secureCookies);
    reply.clearCookie(SIGNIN_CSRF_COOKIE, { path: '/signin' });
    return reply.redirect(next, 303);
  });

  app.post('/signout', async (request, reply) => {
    const lang = pageLanguage(request, reply);
    const session = await readSession(request, services, options.authenticators);
    if (session && !csrfMatches(session, formOf(request).csrf)) return sendBadForm(reply, request, lang, session);
    clearSessionCookie(reply);
    return reply.redirect('/signin', 303);
  });

  registerOidcSignIn(app, services, options, (reply, token) => startSession(reply, token, services, secureCookies));

  function signInPage(request: FastifyRequest, reply: FastifyReply, lang: Lang, next: string, status: number, error?: string) {
    const m = messagesFor(lang);
    const csrf = randomBytes(24).toString('base64url');
    reply.setCookie(SIGNIN_CSRF_COOKIE, csrf, { path: '/signin', httpOnly: true, sameSite: 'strict', secure: secureCookies, maxAge: 3600 });
    const issuers = signInIssuers(services.config);
    const body = html`
      <h1>${m.signInTitle}</h1>
      <p>${m.signInIntro}</p>
      ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
      ${issuers.map(
        (i) => html`<p><a class="button" href="/signin/oidc?issuer=${encodeURIComponent(i.issuer)}&amp;next=${encodeURIComponent(next)}">${m.signInWithIssuer(i.displayName)}</a></p>`,
      )}
      ${tokenSignInAllowed
        ? html`<form method="post" action="/signin">
            <fieldset>
              <legend>${m.tokenLegend}</legend>
              <input type="hidden" name="csrf" value="${csrf}">
              <input type="hidden" name="next" value="${next}">
              <p><label for="token">${m.tokenLabel}</label><br>
              <textarea id="token" name="token" rows="4" cols="60" required autocomplete="off" spellcheck="false" aria-describedby="token-help"></textarea></p>
              <p id="token-help" class="muted">${m.tokenHelp}</p>
              <button type="submit">${m.tokenSubmit}</button>
            </fieldset>
          </form>`
        : ''}
      ${!tokenSignInAllowed && !issuers.length ? html`<p class="error">${m.noSignInMethod}</p>` : ''}`;
    return sendPage(reply, status, { title: m.signInTitle, lang, nav: pageNav(request, lang), body });
  }
}

/** The session lasts as long as the token it holds. */
function startSession(reply: FastifyReply, token: string, services: Services, secure: boolean): void {
  const exp = decodeJwt(token).exp;
  const remaining = exp ? exp - Math.floor(services.clock().getTime() / 1000) : 900;
  setSessionCookie(reply, token, secure, Math.max(1, remaining));
}

function formOf(request: FastifyRequest): Record<string, unknown> {
  return request.body && typeof request.body === 'object' ? (request.body as Record<string, unknown>) : {};
}
