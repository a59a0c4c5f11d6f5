import { BadRequestException, Controller, HttpException, Inject, Logger, Post, Req, Res } from '@nestjs/common';
import { ApiConsumes, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { AppConfig } from '@mz/contracts';
import { APP_CONFIG } from '@mz/platform';
import { reportText, summariseReport, TLSRPT_GZIP, TLSRPT_JSON, TlsRptInputError } from './tlsrpt-report';
import { type TlsRptOutcome, TlsRptService } from './tlsrpt.service';

export const TLSRPT_PATH = 'api/tlsrpt';

const ERROR_NAMES: Record<number, string> = { 400: 'Bad Request', 413: 'Payload Too Large', 415: 'Unsupported Media Type' };

/**
 * The `rua=https://…` target of the `_smtp._tls.<REPLY_DOMAIN>` TXT record (RFC 8460 §5.3):
 * sending domains POST daily aggregate reports on how TLS to our MX went. Reporters come from
 * their own servers with no cookie or Origin; the body is the authority on nothing but counts, so
 * it is validated hard and only reports about REPLY_DOMAIN are kept. Per-IP rate limited (the
 * raw-body middleware answers 429 before reading the body).
 */
@ApiTags('mail')
@Controller()
export class TlsRptController {
  private readonly logger = new Logger('TlsRpt');

  constructor(private readonly reports: TlsRptService, @Inject(APP_CONFIG) private readonly config: AppConfig) {}

  @Post(TLSRPT_PATH)
  @ApiConsumes(TLSRPT_JSON, TLSRPT_GZIP)
  @ApiOperation({
    summary: 'Receive a TLS report (RFC 8460) about mail delivered to REPLY_DOMAIN',
    description:
      `Body: the report as ${TLSRPT_JSON}, or gzip-compressed as ${TLSRPT_GZIP} (at most 1 MiB sent, 4 MiB inflated). ` +
      '201 when stored, 200 for a report already received (same organization-name and report-id); 400 malformed or about another domain, 413 too large, 415 another media type, 429 over the per-IP limit.',
  })
  async receive(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<{ status: TlsRptOutcome }> {
    let outcome: TlsRptOutcome;
    try {
      // Not a Buffer: no body at all, or one the api's JSON parser took (application/json, a 415 by type).
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const summary = summariseReport(await reportText(req.headers['content-type'], raw), this.config.REPLY_DOMAIN);
      outcome = await this.reports.store(summary);
      this.logger.log(`TLS report ${outcome}: ${summary.organizationName} ${summary.reportId}, ${summary.successful} successful / ${summary.failed} failed sessions`);
    } catch (err) {
      if (err instanceof TlsRptInputError) {
        this.reports.rejected();
        throw new HttpException({ statusCode: err.status, error: ERROR_NAMES[err.status], message: err.message }, err.status);
      }
      if (err instanceof BadRequestException) this.reports.rejected();
      throw err;
    }
    res.status(outcome === 'stored' ? 201 : 200);
    return { status: outcome };
  }
}
