import type { FastifyReply, FastifyRequest } from 'fastify';
import { html, type SafeHtml } from './html.js';
import { LANGS, messagesFor, type Lang } from './i18n.js';

export const LANG_COOKIE = 'consentry_lang';
const ONE_YEAR_SECONDS = 365 * 86_400;

/**
 * The page language: an explicit `?lang=` (remembered in a cookie), else the
 * remembered choice, else the browser's Accept-Language, else English.
 */
export function pageLanguage(request: FastifyRequest, reply: FastifyReply): Lang {
  const asked = (request.query as Record<string, unknown> | undefined)?.lang;
  if (isLang(asked)) {
    reply.setCookie(LANG_COOKIE, asked, { path: '/', sameSite: 'lax', httpOnly: true, maxAge: ONE_YEAR_SECONDS });
    return asked;
  }
  const remembered = request.cookies[LANG_COOKIE];
  if (isLang(remembered)) return remembered;
  return fromAcceptLanguage(request.headers['accept-language']);
}

/** RFC 9110 language ranges with q-values; any Chinese range selects Simplified Chinese. */
export function fromAcceptLanguage(header: string | undefined): Lang {
  if (!header) return 'en';
  const ranges = header
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find(Boolean);
      return { tag: tag.toLowerCase(), q: q === undefined ? 1 : Number(q), index };
    })
    .filter((r) => r.tag && r.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const { tag } of ranges) {
    if (tag === 'zh' || tag.startsWith('zh-')) return 'zh-CN';
    if (tag === 'en' || tag.startsWith('en-')) return 'en';
  }
  return 'en';
}

function isLang(value: unknown): value is Lang {
  return typeof value === 'string' && (LANGS as readonly string[]).includes(value);
}

/** Links to the same page in every other language, each labelled in its own language. */
export function languageSwitch(request: FastifyRequest, current: Lang): SafeHtml {
  const url = new URL(request.url, 'http://page.invalid');
  const links = LANGS.filter((l) => l !== current).map((l) => {
    url.searchParams.set('lang', l);
    return html`<a href="${url.pathname + url.search}" hreflang="${l}" lang="${l}">${messagesFor(l).languageName}</a>`;
  });
  return html`<span class="lang-switch"><span class="visually-hidden">${messagesFor(current).switchLanguage}: </span>${links}</span>`;
}
