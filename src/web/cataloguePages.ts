import type { FastifyInstance } from 'fastify';
import { readCatalogue } from '../partners/catalogue.js';
import { catalogueText } from './catalogueText.js';
import { html } from './html.js';
import { pageNav, sendPage } from './pageReply.js';
import type { WebDeps } from './webDeps.js';

export const CATALOGUE_PATH = '/catalogue';
export const CATALOGUE_JSON_PATH = '/catalogue.json';

/**
 * The categories a partner can ask for (what each reveals, the fields it
 * opens) and the purposes it can name (with the text the consumer is shown),
 * as JSON for programs and as a page in the consent pages' languages. Both
 * read the registries through the catalogue module: they are data, not code.
 */
export function registerCataloguePages(app: FastifyInstance, { services, catalogueFields }: WebDeps): void {
  app.get(CATALOGUE_JSON_PATH, async (_request, reply) => {
    const catalogue = await readCatalogue(services.db, catalogueFields);
    return reply.header('cache-control', 'public, max-age=300').header('access-control-allow-origin', '*').send(catalogue);
  });

  app.get(CATALOGUE_PATH, async (request, reply) => {
    const { lang } = request.page;
    const t = catalogueText(lang);
    const { categories, purposes, releasedWith } = await readCatalogue(services.db, catalogueFields);
    const families = [...new Set(releasedWith.map((r) => r.releasedWithAnyOf))];
    return sendPage(reply, 200, {
      title: t.title,
      lang,
      nav: pageNav(request, lang),
      body: html`<h1>${t.title}</h1>
        <p>${t.intro}</p>
        <h2 id="categories">${t.categories}</h2>
        <table class="catalogue">
          <thead><tr><th scope="col">${t.category}</th><th scope="col">${t.reveals}</th><th scope="col">${t.fields}</th></tr></thead>
          <tbody>${categories.map(
            (c) => html`<tr id="category-${c.name}"><th scope="row"><code>${c.name}</code><br>${c.title[lang]}</th><td>${c.reveals[lang]}</td><td>${c.fields.map((f) => html`<code>${f}</code> `)}</td></tr>`,
          )}</tbody>
        </table>
        ${families.map((family) => html`<p>${t.releasedWith(releasedWith.filter((r) => r.releasedWithAnyOf === family).map((r) => r.field).join(', '), family)}</p>`)}
        <h2 id="purposes">${t.purposes}</h2>
        <table class="catalogue">
          <thead><tr><th scope="col">${t.purpose}</th><th scope="col">${t.consumerSees}</th></tr></thead>
          <tbody>${purposes.map((p) => html`<tr id="purpose-${p.name}"><th scope="row"><code>${p.name}</code></th><td>${p.title[lang]}</td></tr>`)}</tbody>
        </table>
        <p><a href="${CATALOGUE_JSON_PATH}">${t.machineReadable}</a> · <a href="/schema/partner.graphql">${t.schemaLink}</a></p>`,
    });
  });
}
