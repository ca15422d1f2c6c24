import type { FastifyInstance } from 'fastify';
import type { WebDeps } from './webDeps.js';
import { html } from './html.js';
import { pageNav, sendPage } from './pageReply.js';

/**
 * Stands in for a demo partner's own website: the seeded partners register
 * `<gateway>/demo/callback` as a redirect URI, so the browser walkthrough ends
 * on a page that shows what the partner was told. Not served in production.
 */
export function registerDemoCallback(app: FastifyInstance, { services }: WebDeps): void {
  if (services.config.nodeEnv === 'production') return;
  app.get('/demo/callback', async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const { lang } = request.page;
    return sendPage(reply, 200, {
      title: 'Partner callback (demo)',
      lang,
      nav: pageNav(request, lang),
      body: html`<h1>Partner callback (demo)</h1>
        <p class="muted">This page stands in for the partner's website, which the subject is sent back to after deciding.</p>
        <div class="panel">
          <p>Consent request: <code>${String(query.request_id ?? '')}</code></p>
          <p>Outcome: <strong>${String(query.outcome ?? '')}</strong></p>
        </div>`,
    });
  });
}
