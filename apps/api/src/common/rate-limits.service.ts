import { Inject, Injectable } from '@nestjs/common';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { AppConfig } from '@mz/contracts';
import { APP_CONFIG, RedisConnections } from '@mz/platform';

export interface LimitSpec { points: number; durationSec: number }

/**
 * Limits, in one place. A login link per address: 5 an hour stops mail-bombing someone's inbox;
 * per IP: 30 in 15 minutes lets an office share one address while stopping address enumeration
 * and sign-up spam. Send-now calls the LLM and sends a mail, so it is bounded per user. A sending
 * domain posts about one TLS report a day per policy: 60 an hour per IP leaves room for a large
 * provider's shared egress and its retries while bounding what a flood can write. The landing page's
 * sample letters are offline-composed and cached, and bounded per IP all the same.
 */
export const RATE_LIMITS = {
  loginLinkPerAddress: { points: 5, durationSec: 3600 },
  loginLinkPerIp: { points: 30, durationSec: 900 },
  sendNowPerUser: { points: 10, durationSec: 3600 },
  tlsRptPerIp: { points: 60, durationSec: 3600 },
  // The landing page asks for a sample when a visitor opens one; it is cached, this bounds scraping.
  topicSamplePerIp: { points: 60, durationSec: 900 },
} as const satisfies Record<string, LimitSpec>;
export type LimitName = keyof typeof RATE_LIMITS;

export type LimitOutcome = { allowed: true } | { allowed: false; retryAfterSec: number };

/**
 * Fixed-window counters in Redis shared by every api replica. Keys live under QUEUE_PREFIX so
 * one environment (or test) never counts another's requests.
 */
@Injectable()
export class RateLimits {
  private readonly limiters = new Map<LimitName, RateLimiterRedis>();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig, private readonly redis: RedisConnections) {}

  async consume(name: LimitName, key: string): Promise<LimitOutcome> {
    try {
      await this.limiter(name).consume(key);
      return { allowed: true };
    } catch (err) {
      // A RateLimiterRes means "over the limit"; anything else is Redis failing, which must surface.
      if (err instanceof RateLimiterRes) return { allowed: false, retryAfterSec: Math.max(1, Math.ceil(err.msBeforeNext / 1000)) };
      throw err;
    }
  }

  private limiter(name: LimitName): RateLimiterRedis {
    let l = this.limiters.get(name);
    if (!l) {
      const spec: LimitSpec = RATE_LIMITS[name];
      l = new RateLimiterRedis({
        storeClient: this.redis.shared,
        keyPrefix: `${this.config.QUEUE_PREFIX}:rl:${name}`,
        points: spec.points,
        duration: spec.durationSec,
      });
      this.limiters.set(name, l);
    }
    return l;
  }
}
