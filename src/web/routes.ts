import type { FastifyInstance } from 'fastify';
import { registerCataloguePages } from './cataloguePages.js';
import { registerCompliancePages } from './compliancePages.js';
import { registerConsentPages } from './consentPages.js';
import { registerDemoCallback } from './demoCallback.js';
import { registerMyDataPages } from './myDataPages.js';
import { registerMyRecordPages } from './myRecordPages.js';
import { registerOidcSignIn } from './oidcSignIn.js';
import { pagePreamble, type PageContext } from './pagePreamble.js';
import { registerPartnerDocsPage } from './partnerDocsPage.js';
import { registerSignIn } from './signIn.js';
import type { WebDeps } from './webDeps.js';

/**
 * Every server-rendered page, registered here and only here: sign-in (a
 * pasted token or an OpenID provider), consent approval, "my data",
 * compliance, the partners' guide, the catalogue and the demo callback. They share one
 * encapsulated context whose preamble hook settles language and session
 * before any handler runs.
 */
export async function registerWebRoutes(app: FastifyInstance, deps: WebDeps): Promise<void> {
  await app.register(async (pages) => {
    pages.decorateRequest('page', null as unknown as PageContext);
    pages.addHook('preHandler', pagePreamble(deps));
    registerSignIn(pages, deps);
    registerOidcSignIn(pages, deps);
    registerConsentPages(pages, deps);
    registerMyDataPages(pages, deps);
    registerMyRecordPages(pages, deps);
    registerCompliancePages(pages, deps);
    registerPartnerDocsPage(pages, deps);
    registerCataloguePages(pages, deps);
    registerDemoCallback(pages, deps);
  });
}
