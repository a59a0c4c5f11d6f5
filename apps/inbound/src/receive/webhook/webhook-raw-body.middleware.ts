import { Inject, Injectable, NestMiddleware } from '@nestjs/common';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { AppConfig } from '@mz/contracts';
import { APP_CONFIG } from '@mz/platform';
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
    this.parse = express.raw({ type: () => true, limit: maxWebhookBodyBytes(config.INBOUND_SMTP_MAX_BYTES), inflate: false });
  }

  use(req: Request, res: Response, next: NextFunction): void {
    this.parse(req, res, (err?: unknown) => {
      if (!err) return next();
      const status = (err as { status?: number }).status;
      const code = status === 413 || status === 415 ? status : 400;
      const message = code === 413 ? 'request body too large' : code === 415 ? 'unsupported Content-Encoding' : 'could not read the request body';
      // Drain what is left so the client reads our answer instead of a reset connection.
      req.resume();
      res.status(code).json({ statusCode: code, message });
    });
  }
}
