import { Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { html, page } from '../common/html';
import { UnsubscribeService } from './unsubscribe.service';

const UNKNOWN = page(
  'Link not recognised',
  html`<h1>This unsubscribe link is not valid</h1><p>It may have been cut off by your mail program. Open the latest letter and use its link, or reply to it with the word “unsubscribe”.</p>`,
);

/**
 * `/u/:token` — the List-Unsubscribe target. GET shows a confirm page and changes nothing (link
 * scanners fetch it); POST unsubscribes and answers 200 with a small page, never a redirect, as
 * RFC 8058 expects. Mail providers POST `List-Unsubscribe=One-Click` from their servers, without
 * cookies and from foreign origins: the Origin check exempts /u/ because the signed token is the
 * authorisation.
 */
@ApiTags('unsubscribe')
@Controller('u')
export class UnsubscribeController {
  constructor(private readonly service: UnsubscribeService) {}

  @Get(':token')
  @ApiOperation({ summary: 'Unsubscribe confirm page (HTML; changes nothing)' })
  @ApiProduces('text/html')
  async confirm(@Param('token') token: string, @Res() res: Response): Promise<void> {
    res.setHeader('Cache-Control', 'no-store');
    const target = await this.service.target(token);
    if (!target) {
      res.status(404).type('html').send(UNKNOWN);
      return;
    }
    if (!target.enabled) {
      res.status(200).type('html').send(page('Unsubscribed', html`<h1>You are not subscribed to ${target.topicName}</h1><p>No more letters on this topic will be sent. <a href="/settings">Your settings</a></p>`));
      return;
    }
    res.status(200).type('html').send(
      page(
        'Unsubscribe',
        html`<h1>Unsubscribe from ${target.topicName}?</h1>
<p>You will stop receiving the daily letter on <strong>${target.topicName}</strong>. Your other topics are not affected.</p>
<form method="post" action="/u/${encodeURIComponent(token)}"><button type="submit">Unsubscribe</button></form>`,
      ),
    );
  }

  @Post(':token')
  @ApiOperation({ summary: 'Unsubscribe (RFC 8058 one-click: body List-Unsubscribe=One-Click; answers 200 HTML, no redirect)' })
  @ApiProduces('text/html')
  async unsubscribe(@Param('token') token: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    res.setHeader('Cache-Control', 'no-store');
    const oneClick = (req.body as Record<string, unknown> | undefined)?.['List-Unsubscribe'] === 'One-Click';
    const target = await this.service.unsubscribe(token, oneClick ? 'one_click' : 'page');
    if (!target) {
      res.status(404).type('html').send(UNKNOWN);
      return;
    }
    res.status(200).type('html').send(
      page('Unsubscribed', html`<h1>You are unsubscribed from ${target.topicName}</h1><p>No more letters on this topic will be sent. Changed your mind? <a href="/settings">Your settings</a></p>`),
    );
  }
}
