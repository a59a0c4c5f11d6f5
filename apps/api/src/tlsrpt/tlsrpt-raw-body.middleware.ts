import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { rawBodyReader } from '@mz/platform';
import { RateLimits } from '../common/rate-limits.service';
import { TLSRPT_BODY_LIMIT } from './tlsrpt-report';

/**
 * In front of the TLS-RPT endpoint: the per-IP limit first (a refused request's body is never
 * read), then the body as raw bytes, capped, whatever the Content-Type — the controller decides
 * by media type (JSON as is, gzip inflated under its own cap). Never inflated here: a
 * Content-Encoding is not one of RFC 8460's forms. Parser errors become JSON answers: 413 too
 * large, 415 an encoding, 400 otherwise.
 */
@Injectable()
export class TlsRptRawBodyMiddleware implements NestMiddleware {
  private readonly readBody = rawBodyReader(TLSRPT_BODY_LIMIT);

  constructor(private readonly limits: RateLimits) {}

  use(req: Request, res: Response, next: NextFunction): void {
    this.limits.consume('tlsRptPerIp', req.ip || 'unknown').then(
      (limit) => {
        if (!limit.allowed) {
          req.resume();
          res.setHeader('Retry-After', String(limit.retryAfterSec));
          res.status(429).json({ statusCode: 429, error: 'Too Many Requests', message: 'Too many TLS reports from your network. Try again later.' });
          return;
        }
        this.readBody(req, res, next);
      },
      next,
    );
  }
}
