import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { AppConfig } from '@mz/contracts';
import { APP_CONFIG, RedisConnections } from '@mz/platform';
import { INBOUND_OPTIONS, type InboundOptions } from '../inbound-options';

/**
 * Redis-backed guards shared by every inbound replica: a once-only store for signed request
 * tokens (Mailgun's token, an SNS MessageId), and the per-IP request limit of the provider
 * webhooks. Keys live under QUEUE_PREFIX so environments and tests never see each other's.
 */
@Injectable()
export class ProviderGuards {
  private readonly limiter: RateLimiterRedis;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig, private readonly redis: RedisConnections, @Inject(INBOUND_OPTIONS) options: InboundOptions) {
    this.limiter = new RateLimiterRedis({
      storeClient: redis.shared,
      keyPrefix: `${config.QUEUE_PREFIX}:rl:provider-webhook`,
      points: options.providerWebhookRequestsPerMinute,
      duration: 60,
    });
  }

  /**
   * Claims a token for `ttlSeconds` (longer than the window its signature is good for): true the
   * first time, false for every later use of it.
   */
  async claim(provider: string, token: string, ttlSeconds: number): Promise<boolean> {
    return (await this.redis.shared.set(this.key(provider, token), '1', 'EX', ttlSeconds, 'NX')) === 'OK';
  }

  /** Gives a token back when its request could not be stored, so the provider's retry is accepted. */
  async release(provider: string, token: string): Promise<void> {
    await this.redis.shared.del(this.key(provider, token)).catch(() => undefined);
  }

  /** Null when allowed; otherwise the seconds to wait. */
  async limit(provider: string, ip: string): Promise<number | null> {
    try {
      await this.limiter.consume(`${provider}:${ip}`);
      return null;
    } catch (err) {
      if (err instanceof RateLimiterRes) return Math.max(1, Math.ceil(err.msBeforeNext / 1000));
      throw err;
    }
  }

  private key(provider: string, token: string): string {
    return `${this.config.QUEUE_PREFIX}:provider-token:${provider}:${createHash('sha256').update(token).digest('hex')}`;
  }
}
