import { Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { html, page } from '../common/html';
import { maskEmail } from '../common/mask-email';
import { LoginService } from './login.service';
import { SessionService } from './session.service';

const INVALID = page(
  'Link expired',
  html`<h1>This sign-in link can't be used</h1>
<p>It has expired, was already used, or is not a link we sent. Sign-in links work once, for a short time.</p>
<p><a href="/">Request a new link</a></p>`,
);

/**
 * The page a sign-in link opens. GET (and HEAD) only show the account and a button: mail
 * scanners prefetch links, so only the form's POST consumes the token. Works without JavaScript.
 */
@ApiTags('auth')
@Controller('login')
export class LoginPageController {
  constructor(private readonly logins: LoginService, private readonly sessions: SessionService) {}

  @Get(':token')
  @ApiOperation({ summary: 'Confirm page for a sign-in link (HTML; never consumes the token)' })
  @ApiProduces('text/html')
  async confirm(@Param('token') token: string, @Res() res: Response): Promise<void> {
    noStore(res);
    const pending = await this.logins.peek(token);
    if (!pending) {
      res.status(410).type('html').send(INVALID);
      return;
    }
    const action = `/login/${encodeURIComponent(token)}`;
    // What confirming will also do, said before the button: whoever asked for this link chose it,
    // and only the address's owner, who opened it, can agree (docs/architecture.md §5).
    const signup = pending.signup?.topics.length
      ? html`<p data-testid="signup-choice">Signing in also starts your daily letters: <strong>${pending.signup.topics.map((t) => t.name).join(', ')}</strong>, at ${pending.signup.sendTime} (${pending.signup.timezone}). Topics you already receive keep their settings.</p>`
      : html``;
    res.status(200).type('html').send(
      page(
        'Sign in',
        html`<h1>Sign in to Mentor Zero</h1>
<p>You are signing in as <strong>${maskEmail(pending.email)}</strong>.</p>
${signup}
<form method="post" action="${action}"><button type="submit">Sign in</button></form>
<p class="muted">The link works once. If you did not ask for it, close this page: nothing happens.</p>`,
      ),
    );
  }

  @Post(':token')
  @ApiOperation({ summary: 'Consume a sign-in link: sets the session cookie (mz_session; __Host-mz_session on https) and redirects 303 to /settings (or /admin for an admin sign-in link)' })
  async consume(@Param('token') token: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    noStore(res);
    const login = await this.logins.consume(token, { userAgent: req.get('user-agent'), ip: req.ip });
    if (!login) {
      res.status(410).type('html').send(INVALID);
      return;
    }
    res.cookie(this.sessions.cookieName, login.sessionToken, this.sessions.cookieOptions(login.expiresAt));
    // A footer link's session is for settings only: it never lands on the console.
    res.redirect(303, login.role === 'admin' && login.scope === 'full' ? '/admin' : '/settings');
  }
}

/** Pages carrying a token are never cached (Referrer-Policy: same-origin keeps the URL from other sites). */
function noStore(res: Response): void {
  res.setHeader('Cache-Control', 'no-store');
}
