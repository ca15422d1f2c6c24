import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';
import { authenticate } from '../auth/authenticate.js';
import { html } from './html.js';
import { messagesFor, type Lang } from './i18n.js';
import { signInIssuers } from './oidcSignIn.js';
import { pageNav, sendBadForm, sendPage } from './pageReply.js';
import type { WebDeps } from './webDeps.js';
import { clearSessionCookie, csrfMatches, safeNextPath, startSession } from './session.js';

/** Double-submit token for the sign-in form, so another site cannot sign a visitor in as someone else. */
const SIGNIN_CSRF_COOKIE = 'consentry_signin_csrf';

/**
 * Sign-in and sign-out. Subjects sign in through a trusted OpenID issuer
 * (oidcSignIn.ts); outside production a token from `consentry token` can be
 * pasted instead. Either way the cookie then holds a gateway-signed session
 * that lasts as long as what it was made from.
 */
export function registerSignIn(app: FastifyInstance, deps: WebDeps): void {
  const { services } = deps;
  const tokenSignInAllowed = services.config.nodeEnv !== 'production';
  const secureCookies = services.config.issuer.startsWith('https:');
  const { authenticators } = deps;

  app.get('/signin', async (request, reply) => {
    const { lang } = request.page;
    const query = request.query as Record<string, unknown>;
    const error = query.error === 'oidc' ? messagesFor(lang).oidcFailed : undefined;
    return signInPage(request, reply, lang, safeNextPath(query.next), 200, error);
  });

  app.post('/signin', async (request, reply) => {
    const { lang } = request.page;
    const form = formOf(request);
    const next = safeNextPath(form.next);
    if (!tokenSignInAllowed) return reply.code(404).send();
    const expected = request.cookies[SIGNIN_CSRF_COOKIE];
    if (!expected || form.csrf !== expected) return sendBadForm(reply, request, lang);
    const token = typeof form.token === 'string' ? form.token.trim() : '';
    const principal = await authenticate({ authorization: `Bearer ${token}`, method: request.method, url: request.url }, authenticators).catch(() => undefined);
    if (principal?.kind !== 'user') return signInPage(request, reply, lang, next, 401, messagesFor(lang).tokenInvalid);
    const exp = decodeJwt(token).exp;
    await startSession(reply, deps, principal, exp ? new Date(exp * 1000) : new Date(services.clock().getTime() + 900_000));
    reply.clearCookie(SIGNIN_CSRF_COOKIE, { path: '/signin' });
    return reply.redirect(next, 303);
  });

  app.post('/signout', async (request, reply) => {
    const { lang } = request.page;
    const { session } = request.page;
    if (session && !csrfMatches(session, formOf(request).csrf)) return sendBadForm(reply, request, lang, session);
    clearSessionCookie(reply);
    return reply.redirect('/signin', 303);
  });

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

function formOf(request: FastifyRequest): Record<string, unknown> {
  return request.body && typeof request.body === 'object' ? (request.body as Record<string, unknown>) : {};
}
