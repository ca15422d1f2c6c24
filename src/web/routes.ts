import type { FastifyInstance } from 'fastify';
import type { Authenticators, ExternalTokenVerifier } from '../auth/authenticate.js';
import type { Services } from '../services.js';
import { registerCompliancePages } from './compliancePages.js';
import { registerConsentPages } from './consentPages.js';
import { registerDemoCallback } from './demoCallback.js';
import { registerPartnerDocsPage } from './partnerDocsPage.js';
import { registerSignIn } from './signIn.js';

export interface WebOptions {
  externalVerifier?: ExternalTokenVerifier;
  authenticators: Authenticators;
}

/** The server-rendered pages: sign-in, consent approval and "my data", compliance. */
export async function registerWebRoutes(app: FastifyInstance, services: Services, options: WebOptions): Promise<void> {
  registerSignIn(app, services, options);
  registerConsentPages(app, services, options);
  registerCompliancePages(app, services, options);
  registerDemoCallback(app, services);
  registerPartnerDocsPage(app, services);
}
