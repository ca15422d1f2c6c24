import { probingMonitorFor } from '../../audit/probing.js';
import { RateLimitedError } from '../../errors.js';
import type { Services } from '../../services.js';
import type { RequestGuard } from '../requestGuard.js';

/**
 * When configured (config.probing.throttle), refuses partners flagged for
 * probing with RATE_LIMITED (429) until their flag leaves the window. The
 * check is a set lookup: the monitor (started with the server's audit jobs)
 * evaluates in the background, never per request.
 */
export function probingThrottleGuard(services: Services): RequestGuard {
  const monitor = probingMonitorFor(services);
  const retryAfterSeconds = services.config.probing.windowMinutes * 60;
  return {
    name: 'probingThrottle',
    check({ contextValue }) {
      if (!services.config.probing.throttle) return;
      const principal = contextValue.principal;
      if (principal?.kind !== 'partner' || !monitor.isFlagged(principal.partnerId)) return;
      throw new RateLimitedError('Requests from this partner are paused: its recent requests look like probing for non-consenting subjects.', {
        retryAfterSeconds,
      });
    },
  };
}
