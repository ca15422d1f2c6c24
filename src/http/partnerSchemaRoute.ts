import type { FastifyInstance } from 'fastify';
import type { RoleSchemas } from '../gateway/roleSchemas.js';

export const PARTNER_SCHEMA_PATH = '/schema/partner.graphql';

/**
 * The partner's SDL at a stable URL, public in every environment (production
 * included, where introspection is off): what partners generate typed
 * clients from. It changes only with a release, so it is cacheable and
 * carries a strong ETag; the repository holds the same text
 * (docs/partner-schema.graphql, `npm run schema:partner`).
 */
export function registerPartnerSchemaRoute(app: FastifyInstance, schemas: RoleSchemas): void {
  app.get(PARTNER_SCHEMA_PATH, async (request, reply) => {
    reply
      .header('etag', schemas.partnerSdlTag)
      .header('cache-control', 'public, max-age=300, must-revalidate')
      .header('x-content-type-options', 'nosniff')
      .header('access-control-allow-origin', '*');
    if (etagMatches(request.headers['if-none-match'], schemas.partnerSdlTag)) return reply.code(304).send();
    return reply.header('content-type', 'text/plain; charset=utf-8').send(schemas.partnerSdl);
  });
}

function etagMatches(header: string | undefined, tag: string): boolean {
  if (!header) return false;
  return header.trim() === '*' || header.split(',').some((t) => t.trim().replace(/^W\//, '') === tag);
}
