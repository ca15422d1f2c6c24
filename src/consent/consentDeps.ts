import type { Services } from '../services.js';
import type { ConsentDeps } from './grantConsent.js';

/** What the lifecycle operations need, taken from the gateway's services (GraphQL and pages alike). */
export function consentDepsOf(services: Services): ConsentDeps {
  const { db, auditLog, pseudonyms, keys, clock, config } = services;
  return { db, auditLog, pseudonyms, keys, clock, issuer: config.issuer };
}
