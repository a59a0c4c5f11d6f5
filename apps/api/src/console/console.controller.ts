import { Controller, Get, Next, Param, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import { adminRefusal } from '../auth/session.guard';
import { SessionService } from '../auth/session.service';
import { ConsoleAssets } from './console-assets.service';

/** Content-hashed names never change content: cache them for a year. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** Bull Board (a raw express router mounted before Nest's routes) owns this prefix, never the shell. */
const BULL_BOARD = /^\/admin\/queues(\/|$)/;

/**
 * Serves the web console: the HTML shell for every app route, and the built assets. The shell
 * holds no data, but /admin is still refused (403/401 status, same shell so the page can explain)
 * to anyone who is not an active admin — the admin API behind it refuses them regardless.
 */
@ApiExcludeController()
@Controller()
export class ConsoleController {
  constructor(private readonly assets: ConsoleAssets, private readonly sessions: SessionService) {}

  @Get(['/', 'settings', 'letters', 'admin', 'admin/*path'])
  async shell(@Req() req: Request, @Res() res: Response, @Next() next: NextFunction): Promise<void> {
    if (BULL_BOARD.test(req.path)) return next();
    const html = this.assets.shell();
    res.setHeader('Cache-Control', 'no-cache');
    if (!html) {
      res.status(503).type('text/plain').send(this.assets.missingReason());
      return;
    }
    let status = 200;
    if (req.path === '/admin' || req.path.startsWith('/admin/')) {
      const user = await this.sessions.fromRequest(req);
      if (!user) status = 401;
      // A footer-link (settings-only) session of an admin is refused like the admin API refuses it.
      else if (user.status !== 'active' || adminRefusal(user)) status = 403;
    }
    res.status(status).type('html').send(html);
  }

  @Get('assets/:file')
  asset(@Param('file') file: string, @Res() res: Response): void {
    const path = this.assets.assetPath(file);
    if (!path) {
      res.status(404).type('text/plain').send('Not found');
      return;
    }
    res.sendFile(path, { headers: { 'Cache-Control': IMMUTABLE }, dotfiles: 'deny' });
  }
}
