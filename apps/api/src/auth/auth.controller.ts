import { Body, Controller, Get, HttpCode, Patch, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiNoContentResponse, ApiOperation, ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { DataSource } from 'typeorm';
import { logEvent } from '@mz/db';
import { LOGIN_LINK_TTL_MS } from '@mz/domain';
import { html, page } from '../common/html';
import { openApiSchema, ZodBody, ZodOk } from '../common/openapi';
import { body } from '../common/zod-validation.pipe';
import { LoginLinkAccepted, LoginLinkBody, MePatch, type MePatchInput, MeResponse, type LoginLinkBodyInput } from './auth.schemas';
import { AuthMetrics } from './auth.metrics';
import { IpRateLimitedError, LoginLinkService } from './login-link.service';
import { CurrentUser, SessionGuard } from './session.guard';
import { SessionService, type SessionUser } from './session.service';

// The same validity the sign-in mail states (minutesLeft rounds to these minutes when sent at once).
export const ACCEPTED = {
  status: 'accepted',
  message: `If this address can receive mail, a sign-in link is on its way. It works once, for ${LOGIN_LINK_TTL_MS / 60_000} minutes.`,
} as const;

@ApiTags('auth')
@Controller('api')
export class AuthController {
  constructor(
    private readonly links: LoginLinkService,
    private readonly sessions: SessionService,
    private readonly ds: DataSource,
    private readonly metrics: AuthMetrics,
  ) {}

  @Post('auth/login-link')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Email a one-time sign-in link (creates the account on first use)',
    description:
      'Always 202 with the same body, whether the address is new, known, suspended or over its per-address limit (5/hour: no mail is sent then). ' +
      'More than 30 requests in 15 minutes from one IP get 429 with Retry-After. A form-encoded post (no-JS landing form) gets an HTML page instead of JSON. ' +
      'An optional `signup` ({ topics, sendTime, timezone }) is stored with this link\'s token and applied when that link is confirmed; an inactive or unknown topic is a 400 and nothing is stored or sent.',
  })
  @ZodBody(LoginLinkBody)
  @ApiAcceptedResponse({ schema: openApiSchema(LoginLinkAccepted, 'output') })
  @ApiTooManyRequestsResponse({ description: 'Per-IP limit reached' })
  async loginLink(@Body(body(LoginLinkBody)) input: LoginLinkBodyInput, @Req() req: Request, @Res() res: Response): Promise<void> {
    try {
      await this.links.request(input.email, req.ip ?? '', input.signup);
    } catch (err) {
      if (!(err instanceof IpRateLimitedError)) throw err;
      res.setHeader('Retry-After', String(err.retryAfterSec));
      res.status(429).json({ statusCode: 429, error: 'Too Many Requests', message: 'Too many sign-in requests from your network. Try again later.' });
      return;
    }
    if (req.is('application/x-www-form-urlencoded')) {
      res.status(202).type('html').send(page('Check your inbox', html`<h1>Check your inbox</h1><p>${ACCEPTED.message}</p><p class="muted"><a href="/">Back</a></p>`));
      return;
    }
    res.status(202).json(ACCEPTED);
  }

  @Post('auth/logout')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke the current session and clear its cookie (idempotent)' })
  @ApiNoContentResponse()
  async logout(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<void> {
    const revoked = await this.sessions.revoke(this.sessions.readCookie(req));
    if (revoked) {
      this.metrics.sessionsRevoked.inc();
      await logEvent(this.ds.manager, { type: 'LOGOUT', actor: revoked.userId, userId: revoked.userId });
    }
    res.clearCookie(this.sessions.cookieName, this.sessions.cookieOptions());
  }

  /**
   * For the web app's start-up probe: 200 whether or not anyone is signed in. Being signed out is
   * not an error, and a 401 here would put one in every signed-out visitor's browser console.
   */
  @Get('auth/session')
  @ApiOperation({ summary: 'Who is signed in: { user } for an active session, else { user: null } (never 401)' })
  async session(@Req() req: Request) {
    const user = await this.sessions.fromRequest(req);
    return { user: user && user.status === 'active' ? await this.profile(user) : null };
  }

  @Get('me')
  @UseGuards(SessionGuard)
  @ApiOperation({ summary: 'The signed-in user' })
  @ZodOk(MeResponse)
  @ApiUnauthorizedResponse()
  me(@CurrentUser() user: SessionUser) {
    return this.profile(user);
  }

  @Patch('me')
  @UseGuards(SessionGuard)
  @ApiOperation({ summary: 'Change my display name (null or "" clears it)' })
  @ZodBody(MePatch)
  @ZodOk(MeResponse)
  async updateMe(@CurrentUser() user: SessionUser, @Body(body(MePatch)) input: MePatchInput) {
    await this.ds.query(`UPDATE app_user SET name = $2 WHERE id = $1`, [user.id, input.name]);
    return this.profile(user);
  }

  private async profile(user: SessionUser) {
    const [u] = await this.ds.query(
      `SELECT u.id, u.email, u.name, u.role, u.status, u.created_at, u.last_login_at, s.reason AS suppression_reason, s.created_at AS suppressed_at
         FROM app_user u LEFT JOIN suppression s ON s.address = lower(u.email) WHERE u.id = $1`,
      [user.id],
    );
    return {
      id: u.id, email: u.email, name: u.name, role: u.role, status: u.status, createdAt: u.created_at, lastLoginAt: u.last_login_at,
      sessionScope: user.scope,
      suppression: u.suppression_reason ? { reason: u.suppression_reason, since: u.suppressed_at } : null,
    };
  }
}
