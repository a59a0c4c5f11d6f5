import { Inject, Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { AppConfig } from '@mz/contracts';
import { APP_CONFIG, rawBodyReader } from '@mz/platform';
import { maxWebhookBodyBytes } from './webhook-payload';

/**
 * Reads the webhook body as raw bytes (the signature is over exactly these), whatever the
 * Content-Type, capped, and never inflated (a compressed body would be signed as compressed
 * bytes we do not keep). Parser errors become plain JSON answers: 413 too large, 415 encoding,
 * 400 otherwise.
 */
@Injectable()
export class WebhookRawBodyMiddleware implements NestMiddleware {
  private readonly parse;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.parse = rawBodyReader(maxWebhookBodyBytes(config.INBOUND_SMTP_MAX_BYTES));
  }

  use(req: Request, res: Response, next: NextFunction): void {
    this.parse(req, res, next);
  }
}
