import { Controller, Get, Header, Inject, NotFoundException, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import type { AppConfig } from '@mz/contracts';
import { mtaStsPolicy } from '@mz/domain';
import { APP_CONFIG } from '@mz/platform';

// The policy text lives beside its id in @mz/domain: `npm run mz -- dns-records` derives the
// `_mta-sts` record's id from the same text this serves.
export { mtaStsPolicy };

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
