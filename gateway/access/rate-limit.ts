// Per-key rate limits from the ApiKey's spec.rateLimit: requestsPerSecond each second, and a burst
// allowance on top that refills over burst/requestsPerSecond seconds. Over both: 429 Retry-After.
// Limits are per API replica (in memory): N replicas allow up to N times the rate.
import { BurstyRateLimiter, RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Caller } from './keys.ts';
import { ApiError } from '../http/errors.ts';

export class KeyRateLimits {
  private readonly limiters = new Map<string, BurstyRateLimiter>();

  private limiterOf(caller: Caller): BurstyRateLimiter {
    const { requestsPerSecond: rps, burst } = caller.rateLimit;
    // A changed limit (or a rotated key) gets a fresh limiter.
    const id = `${caller.key}:${caller.keyId}:${rps}:${burst}`;
    let limiter = this.limiters.get(id);
    if (!limiter) {
      for (const k of this.limiters.keys()) if (k.startsWith(`${caller.key}:`)) this.limiters.delete(k);
      limiter = new BurstyRateLimiter(
        new RateLimiterMemory({ points: rps, duration: 1 }),
        new RateLimiterMemory({ keyPrefix: 'burst', points: burst, duration: Math.max(1, Math.ceil(burst / rps)) }),
      );
      this.limiters.set(id, limiter);
    }
    return limiter;
  }

  /** Resolves when the call may proceed; throws 429 with Retry-After otherwise. */
  async take(caller: Caller): Promise<void> {
    try {
      await this.limiterOf(caller).consume(caller.key);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      const seconds = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
      throw new ApiError(429, 'rate_limited', `ApiKey ${caller.key} is limited to ${caller.rateLimit.requestsPerSecond} requests per second (burst ${caller.rateLimit.burst}); retry after ${seconds} s`, undefined, [], { 'Retry-After': String(seconds) });
    }
  }
}
