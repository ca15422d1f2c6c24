import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Redis } from 'ioredis';
import { RateLimitedError } from '../../errors.js';
import type { RequestGuard } from '../requestGuard.js';

export interface RateLimitOptions {
  points: number;
  durationSeconds: number;
  /** Shared across replicas when given; per process otherwise. */
  redis?: Redis;
}

/** Per-partner request rate (rate-limiter-flexible). Over the rate: RATE_LIMITED, HTTP 429, Retry-After. */
export function rateLimitGuard(options: RateLimitOptions): RequestGuard {
  const limiter: RateLimiterAbstract = options.redis
    ? new RateLimiterRedis({
        storeClient: options.redis,
        keyPrefix: 'consentry:rl',
        points: options.points,
        duration: options.durationSeconds,
        // A Redis outage must not take partners down with it: fall back to per-process limits.
        insuranceLimiter: new RateLimiterMemory({ points: options.points, duration: options.durationSeconds }),
      })
    : new RateLimiterMemory({ points: options.points, duration: options.durationSeconds });
  return {
    name: 'rateLimit',
    async check({ contextValue }) {
      const principal = contextValue.principal;
      if (principal?.kind !== 'partner') return;
      try {
        await limiter.consume(principal.partnerId);
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) throw rejection;
        const retryAfterSeconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
        throw new RateLimitedError(`Rate limit exceeded; retry after ${retryAfterSeconds} s.`, { retryAfterSeconds });
      }
    },
  };
}
