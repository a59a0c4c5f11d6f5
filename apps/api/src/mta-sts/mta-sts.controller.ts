import { Controller, Get, Header, Inject, NotFoundException, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import type { AppConfig } from '@mz/contracts';
import { APP_CONFIG } from '@mz/platform';

/** The STSv1 policy text (RFC 8461 §3.2): CRLF-separated key: value lines. */
export function mtaStsPolicy(config: Pick<AppConfig, 'MTA_STS_MODE' | 'MTA_STS_MX' | 'MTA_STS_MAX_AGE' | 'REPLY_DOMAIN'>): string {
  const mx = (config.MTA_STS_MX ?? config.REPLY_DOMAIN).split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
  return ['version: STSv1', `mode: ${config.MTA_STS_MODE}`, ...mx.map((h) => `mx: ${h}`), `max_age: ${config.MTA_STS_MAX_AGE}`].join('\r\n') + '\r\n';
}

/**
 * MTA-STS for REPLY_DOMAIN (RFC 8461): senders that support it fetch this policy over https from
 * `mta-sts.<REPLY_DOMAIN>` and then deliver replies to the named MX only over verified TLS (in
 * `enforce`) or report failures (in `testing`, with TLS-RPT). Served for that host only; the
 * ingress routes the host here, and the `_mta-sts` TXT record's id announces each policy change
 * (docs/operations.md, "Mail in transit").
 */
@ApiTags('mail')
@Controller('.well-known')
export class MtaStsController {
  private readonly host: string;
  private readonly policy: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.host = `mta-sts.${config.REPLY_DOMAIN}`;
    this.policy = mtaStsPolicy(config);
  }

  @Get('mta-sts.txt')
  @Header('Content-Type', 'text/plain; charset=utf-8')
  @Header('Cache-Control', 'max-age=300')
  @ApiOperation({ summary: 'MTA-STS policy (RFC 8461) for the reply domain; only on host mta-sts.<REPLY_DOMAIN>' })
  policyText(@Req() req: Request): string {
    if (req.hostname?.toLowerCase() !== this.host) throw new NotFoundException('No MTA-STS policy here');
    return this.policy;
  }
}
