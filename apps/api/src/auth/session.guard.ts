import { CanActivate, createParamDecorator, ExecutionContext, ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { type AuthedRequest, SessionService, type SessionUser } from './session.service';

/** Requires a live session of an active user; puts the user on the request. */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(private readonly sessions: SessionService) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    req.user = await requireActiveUser(this.sessions, req);
    return true;
  }
}

/** Requires an active admin: anonymous → 401, anyone else → 403. */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(private readonly sessions: SessionService) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    const user = await requireActiveUser(this.sessions, req);
    const refusal = adminRefusal(user);
    if (refusal) throw new ForbiddenException(refusal);
    req.user = user;
    return true;
  }
}

async function requireActiveUser(sessions: SessionService, req: AuthedRequest): Promise<SessionUser> {
  const user = await sessions.fromRequest(req);
  if (!user) throw new UnauthorizedException('Sign in first');
  if (user.status !== 'active') throw new ForbiddenException('This account is not active');
  return user;
}

/** The console needs a sign-in link requested for it: a session from a letter's footer link is settings-only. */
export const CONSOLE_NEEDS_SIGN_IN = 'The console needs a sign-in link: this session came from a letter and only opens your settings. Sign out and request a link on the home page.';

/** Why this user may not use the admin console and API, or null when they may. */
export function adminRefusal(user: SessionUser): string | null {
  if (user.role !== 'admin') return 'Admin role required';
  if (user.scope !== 'full') return CONSOLE_NEEDS_SIGN_IN;
  return null;
}

/** The signed-in user (use behind SessionGuard or AdminGuard). */
export const CurrentUser = createParamDecorator((_data: unknown, ctx: ExecutionContext): SessionUser => {
  const user = ctx.switchToHttp().getRequest<AuthedRequest>().user;
  if (!user) throw new UnauthorizedException('Sign in first');
  return user;
});
