import type { FastifyReply, FastifyRequest } from 'fastify';
import { html, page, type SafeHtml } from './html.js';
import { messagesFor, type Lang } from './i18n.js';
import { languageSwitch } from './language.js';
import type { WebSession } from './session.js';

/** Extra styles for the subject pages; the frame's own stay as they are. */
const SUBJECT_STYLE = html`<style>
.visually-hidden { position:absolute; width:1px; height:1px; overflow:hidden; clip:rect(0 0 0 0); white-space:nowrap; }
fieldset { border:1px solid #8c959f; border-radius:8px; padding:.75rem 1rem; margin:1rem 0; }
legend { font-weight:600; padding:0 .25rem; }
.choice { display:flex; gap:.6rem; align-items:flex-start; padding:.5rem 0; border-bottom:1px solid #d0d7de; }
.choice:last-child { border-bottom:0; }
.choice input { width:1.25rem; height:1.25rem; margin-top:.2rem; flex:none; }
.choice .reveals { display:block; color:var(--muted); }
dl.facts { display:grid; grid-template-columns:max-content 1fr; gap:.3rem 1rem; margin:0; }
dl.facts dt { font-weight:600; }
dl.facts dd { margin:0; }
.actions { display:flex; gap:.75rem; flex-wrap:wrap; margin-top:1rem; }
.notice { border-left:4px solid var(--ok); padding:.5rem .75rem; background:#eef7f1; }
header nav form { display:inline; }
header nav .link-button { background:none; border:0; color:var(--accent); text-decoration:underline; padding:0; margin-left:1rem; font:inherit; cursor:pointer; }
pre.receipt { white-space:pre-wrap; word-break:break-all; background:#fff; border:1px solid #d0d7de; padding:.75rem; font-size:.85rem; }
</style>`;

/**
 * Sends a page with the headers every subject page needs: never cached (it
 * shows personal data), never framed (a framed consent page invites
 * clickjacking) and no Referer carrying a request id to third parties.
 */
export function sendPage(reply: FastifyReply, status: number, frame: { title: string; lang: Lang; body: SafeHtml; nav: SafeHtml }): FastifyReply {
  return withPageHeaders(reply.code(status)).send(page({ ...frame, body: html`${SUBJECT_STYLE}${frame.body}` }));
}

/**
 * The headers every page carries. `form-action` is left open where a form's
 * answer redirects to a partner's site (the consent page); pages whose forms
 * stay on the gateway pin it to 'self'.
 */
export function withPageHeaders(reply: FastifyReply, options: { formsStayOnSite?: boolean } = {}): FastifyReply {
  const formAction = options.formsStayOnSite ? "; form-action 'self'" : '';
  return reply
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('x-frame-options', 'DENY')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('content-security-policy', `default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'${formAction}`);
}

/** The header links: language switch, and for a signed-in person "My data" and sign-out. */
export function pageNav(request: FastifyRequest, lang: Lang, session?: WebSession): SafeHtml {
  const m = messagesFor(lang);
  const signedIn = session
    ? html`<a href="/me">${m.myData}</a><form method="post" action="/signout"><input type="hidden" name="csrf" value="${session.csrfToken}"><button class="link-button" type="submit">${m.signOut}</button></form>`
    : html``;
  return html`${languageSwitch(request, lang)}${signedIn}`;
}

/** One 404 for "missing" and "not yours": the two must be indistinguishable. */
export function sendNotFound(reply: FastifyReply, request: FastifyRequest, lang: Lang, session?: WebSession): FastifyReply {
  const m = messagesFor(lang);
  return sendMessagePage(reply, request, lang, session, 404, m.notFoundTitle, m.notFoundBody);
}

export function sendBadForm(reply: FastifyReply, request: FastifyRequest, lang: Lang, session?: WebSession): FastifyReply {
  const m = messagesFor(lang);
  return sendMessagePage(reply, request, lang, session, 403, m.badFormTitle, m.badFormBody);
}

/** The store or audit log is down: a page a person can read, still a 503 a monitor can count. */
export function sendUnavailable(reply: FastifyReply, request: FastifyRequest, lang: Lang, retryAfterSeconds: number): FastifyReply {
  const m = messagesFor(lang);
  reply.header('retry-after', String(retryAfterSeconds));
  return sendMessagePage(reply, request, lang, undefined, 503, m.unavailableTitle, m.unavailableBody);
}

function sendMessagePage(
  reply: FastifyReply,
  request: FastifyRequest,
  lang: Lang,
  session: WebSession | undefined,
  status: number,
  title: string,
  text: string,
): FastifyReply {
  return sendPage(reply, status, { title, lang, nav: pageNav(request, lang, session), body: html`<h1>${title}</h1><p>${text}</p>` });
}
