import type { Principal } from '../auth/principal.js';
import type { Services } from '../services.js';
import type { RequestTelemetry } from '../tracing.js';
import type { SourcedData } from '../scores/scoreSource.js';
import type { AccessDecisions } from './accessDecisions.js';

/** Per-request state every resolver and plugin sees. HTTP stays outside: no request objects here. */
export interface GatewayContext {
  requestId: string;
  services: Services;
  principal?: Principal;
  /** The request's trace context, and what its access-log line and metrics need to know. */
  telemetry: RequestTelemetry;
  /** Set before execution by the release-enforcement plugin; resolvers only read it. */
  access?: AccessDecisions;
  /**
   * Set with `access`: what the score source returned for the released fields
   * (and nothing else), or the failure that left them null.
   */
  released?: SourcedData;
}
