import type { FastifyInstance } from 'fastify';
import type { ExternalTokenVerifier } from '../auth/authenticate.js';
import type { Services } from '../services.js';

export interface WebOptions {
  externalVerifier?: ExternalTokenVerifier;
}

/** The server-rendered pages: consent approval, "my data", compliance. */
export async function registerWebRoutes(_app: FastifyInstance, _services: Services, _options: WebOptions): Promise<void> {}
