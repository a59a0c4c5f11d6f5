import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Paths exempt from the check. `/u/` is RFC 8058 one-click unsubscribe: mail providers POST it
 * from their own servers with no cookie and an Origin we do not control; the signed token in
 * the path is the whole authorisation, so a foreign origin gains nothing there.
 */
const EXEMPT = [/^\/u\//];

function originOf(value: string): string | null {
  try {
    return new URL(value).origin;
  } catch {
    return null;
  }
}

/**
 * CSRF defence in depth next to SameSite=Lax cookies (docs/architecture.md §5): a state-changing request that
 * says where it comes from must come from our own origin. A browser always sends Origin on a
 * cross-origin POST; when it is absent, a Referer from elsewhere is refused too. Requests with
 * neither (curl, server-to-server) carry no ambient browser credentials worth forging.
 */
export function originCheck(appBaseUrl: string, logger: Logger) {
  const ours = new URL(appBaseUrl).origin;
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!STATE_CHANGING.has(req.method) || EXEMPT.some((re) => re.test(req.path))) return next();
    const origin = req.headers.origin;
    const referer = req.headers.referer;
    let foreign = false;
    if (typeof origin === 'string') foreign = origin === 'null' || originOf(origin) !== ours;
    else if (typeof referer === 'string') foreign = originOf(referer) !== ours;
    if (!foreign) return next();
    logger.warn({ method: req.method, path: req.path.replace(/\/login\/[^/]+/, '/login/[token]') }, 'cross-origin request refused');
    res.status(403).json({ statusCode: 403, error: 'Forbidden', message: 'Cross-origin request refused' });
  };
}
