import type { Services } from '../services.js';
import type { ConsentDeps } from './grantConsent.js';

/** What the lifecycle operations need, taken from the gateway's services (GraphQL and pages alike). */
export function consentDepsOf(services: Services): ConsentDeps {
  const { db, auditLog, keys, clock, config } = services;
  return { db, auditLog, keys, clock, issuer: config.issuer };
}
