import { Controller, Headers, HttpCode, HttpException, Inject, Post, Req, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import type { AppConfig } from '@mz/contracts';
import { APP_CONFIG, Clock } from '@mz/platform';
import { INBOUND_OPTIONS, type InboundOptions } from '../../inbound-options';
import { InboundMetrics } from '../../inbound.metrics';
import { InboundStore } from '../inbound-store.service';
import { parseWebhookPayload } from './webhook-payload';
import { SIGNATURE_HEADER, verifyWebhookSignature } from './webhook-signature';

/**
 * `POST /webhooks/reply`: a provider (or a relay in front of one) hands us a received message.
 * Signature first — over the raw bytes, before anything reads them — then the payload, then the
 * same store-then-enqueue path as SMTP and IMAP. 202 when stored, duplicates included: a replay
 * of the same signed request names the same Message-ID and changes nothing.
 */
@Controller('webhooks')
export class WebhookController {
  private readonly clock: Clock;

  constructor(
    private readonly store: InboundStore,
    private readonly metrics: InboundMetrics,
    clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(INBOUND_OPTIONS) private readonly options: InboundOptions,
  ) {
    this.clock = options.clock ?? clock;
  }

  @Post('reply')
  @HttpCode(202)
  async reply(@Req() req: Request, @Headers(SIGNATURE_HEADER) signature: string | undefined, @Headers('content-type') contentType: string | undefined) {
    const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const nowSeconds = Math.floor(this.clock.now().getTime() / 1000);
    const check = verifyWebhookSignature(signature, body, this.config.WEBHOOK_SECRET, nowSeconds, this.options.webhookToleranceSeconds);
    if (!check.ok) {
      this.metrics.webhookRejected.inc({ reason: `signature_${check.reason}` });
      throw new UnauthorizedException(check.reason === 'stale' || check.reason === 'future' ? 'signature timestamp outside the allowed window' : 'invalid signature');
    }
    const payload = parseWebhookPayload(contentType, body, this.config.INBOUND_SMTP_MAX_BYTES);
    if (!payload.ok) {
      this.metrics.webhookRejected.inc({ reason: `payload_${payload.status}` });
      throw new HttpException({ statusCode: payload.status, message: payload.error }, payload.status);
    }
    const stored = await this.store.store({ raw: payload.raw, source: 'webhook' });
    return { accepted: true, duplicate: stored.duplicate };
  }
}
