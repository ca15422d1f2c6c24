import type { FastifyInstance } from 'fastify';
import type { WebDeps } from './webDeps.js';
import { html } from './html.js';
import { pageNav, sendPage } from './pageReply.js';

export const PARTNER_DOCS_PATH = '/docs/partners';

/**
 * The page RFC 8414 `service_documentation` and RFC 9728
 * `resource_documentation` point to: what a partner's developer needs to
 * connect, with the URLs of this very deployment.
 */
export function registerPartnerDocsPage(app: FastifyInstance, { services }: WebDeps): void {
  const issuer = services.config.issuer;
  app.get(PARTNER_DOCS_PATH, async (request, reply) => {
    const { lang } = request.page;
    return sendPage(reply, 200, {
      title: 'Consentry for partners',
      lang,
      nav: pageNav(request, lang),
      body: html`<h1>Connecting as a partner</h1>
        <ol>
          <li>Generate a typed client from the partner schema at <code>${issuer}/schema/partner.graphql</code>; each field names the
            category it needs with <code>@category</code>. The <a href="/catalogue">catalogue</a> (<code>${issuer}/catalogue.json</code>)
            says what each category reveals and which purposes exist.</li>
          <li>Discover the authorization server at <code>${issuer}/.well-known/oauth-authorization-server</code> (RFC 8414) and the
            resource at <code>${issuer}/.well-known/oauth-protected-resource</code> (RFC 9728).</li>
          <li>Get an access token at <code>${issuer}/oauth/token</code> with <code>grant_type=client_credentials</code> and
            <code>private_key_jwt</code> client authentication (RFC 7523), signed with a key you registered.</li>
          <li>Send a DPoP proof (RFC 9449) with the token request and with every call: the token is then bound to your DPoP key, and a
            copy of it is useless to anyone else. Partners registered with DPoP required get no token without one.</li>
          <li>Call <code>${issuer}/graphql</code> with <code>Authorization: DPoP &lt;token&gt;</code> and a fresh <code>DPoP</code> proof,
            naming a purpose with every query. A refusal carries a <code>WWW-Authenticate</code> challenge that says why.</li>
          <li>Send your operations by id: <code>{"documentId": "sha256:&lt;hex&gt;", "variables": {...}}</code>, the hashes GraphQL Code
            Generator's client preset writes with <code>persistedDocuments: true</code>. Give its <code>persisted-documents.json</code> to
            the gateway's operator; once your client is marked trusted-documents-only, nothing else runs (<code>DOCUMENT_NOT_TRUSTED</code>),
            so a stolen token can only repeat your own operations.</li>
        </ol>
        <p>Public keys of this gateway (tokens, consent receipts, audit checkpoints): <code>${issuer}/.well-known/jwks.json</code>.</p>`,
    });
  });
}
