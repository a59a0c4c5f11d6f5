import { adminRefusal } from '../auth/session.guard';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { NextFunction, Request, Response, Router } from 'express';
import { ALL_QUEUES } from '@mz/contracts';
import type { QueueService } from '@mz/platform';
import type { SessionService } from '../auth/session.service';

export const BULL_BOARD_PATH = '/admin/queues';

/**
 * Bull Board is a plain express router, outside Nest's guards, so it gets its own check placed
 * in front of it: the same session lookup and admin rule as the admin API. Anonymous browsers
 * are sent to the landing page to sign in; other clients get 401; non-admins 403.
 */
export function adminOnly(sessions: SessionService) {
  return (req: Request, res: Response, next: NextFunction): void => {
    sessions.fromRequest(req).then(
      (user) => {
        if (!user) {
          if ((req.method === 'GET' || req.method === 'HEAD') && req.accepts(['html', 'json']) === 'html') res.redirect(302, '/');
          else res.status(401).json({ statusCode: 401, error: 'Unauthorized', message: 'Sign in first' });
          return;
        }
        const refusal = user.status !== 'active' ? 'This account is not active' : adminRefusal(user);
        if (refusal) {
          res.status(403).json({ statusCode: 403, error: 'Forbidden', message: refusal });
          return;
        }
        res.setHeader('Cache-Control', 'no-store');
        next();
      },
      (err) => next(err),
    );
  };
}

/** The board for every queue (the five of docs/architecture.md §1), on the same queue connections the API uses. */
export function bullBoardRouter(queues: QueueService): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    queues: ALL_QUEUES.map((name) => new BullMQAdapter(queues.queue(name))),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Mentor Zero queues' } },
  });
  return serverAdapter.getRouter() as Router;
}
