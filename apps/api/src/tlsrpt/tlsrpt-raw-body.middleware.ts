import { Injectable, NestMiddleware } from '@nestjs/common';
import express, { type NextFunction, type Request, type Response } from 'express';
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
  private readonly parse = express.raw({ type: () => true, limit: TLSRPT_BODY_LIMIT, inflate: false });

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

  private readBody(req: Request, res: Response, next: NextFunction): void {
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
