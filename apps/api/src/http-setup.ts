import cookieParser from 'cookie-parser';
import helmet from 'helmet';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { Logger } from 'pino';
import type { AppConfig } from '@mz/contracts';
import { bodyParserErrors, QueueService } from '@mz/platform';
import { adminOnly, BULL_BOARD_PATH, bullBoardRouter } from './admin/bull-board';
import { SessionService, sessionCookieName } from './auth/session.service';
import { originCheck } from './common/origin-check.middleware';

/** JSON bodies are small (the largest is a prompt template); forms are tiny. */
export const JSON_BODY_LIMIT = '256kb';
export const FORM_BODY_LIMIT = '16kb';

/**
 * Express-level setup of the api, run before Nest registers its routes (so the order below is
 * the order a request meets): security headers, cookies, bounded body parsers (their errors in the
 * api's error shape), the Origin check for every state-changing request (Bull Board's included),
 * Bull Board behind its admin check, and OpenAPI at /api/docs.
 */
export function setupApiHttp(app: NestExpressApplication, config: AppConfig, logger: Logger): void {
  const https = new URL(config.APP_BASE_URL).protocol === 'https:';
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: true,
        directives: {
          // The console and Bull Board load their own bundles; nothing inline runs.
          'script-src': ["'self'"],
          'connect-src': ["'self'"],
          'img-src': ["'self'", 'data:'],
          'form-action': ["'self'"],
          'frame-ancestors': ["'none'"],
          // Upgrading would break a plain-http local run.
          'upgrade-insecure-requests': https ? [] : null,
        },
      },
      strictTransportSecurity: https ? { maxAge: 15_552_000, includeSubDomains: true } : false,
      frameguard: { action: 'deny' },
      // Not no-referrer: browsers then send `Origin: null` on same-origin form POSTs, which the
      // Origin check must refuse. same-origin keeps URLs (tokens) from leaking to other sites.
      referrerPolicy: { policy: 'same-origin' },
    }),
  );
  app.use(cookieParser());
  app.useBodyParser('json', { limit: JSON_BODY_LIMIT });
  app.useBodyParser('urlencoded', { extended: false, limit: FORM_BODY_LIMIT, parameterLimit: 50 });
  app.use(bodyParserErrors());
  app.use(originCheck(config.APP_BASE_URL, logger));

  app.use(BULL_BOARD_PATH, adminOnly(app.get(SessionService)), bullBoardRouter(app.get(QueueService)));

  const doc = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Mentor Zero API')
      .setDescription(
        'Auth by magic link (session cookie `mz_session`, `__Host-mz_session` on https; a letter\'s footer link gives a settings-only session that the admin API refuses), subscriber settings, one-click unsubscribe and the admin API. ' +
          'State-changing requests with a foreign Origin are refused (403). Errors: `{statusCode, error, message, issues?}`.',
      )
      .setVersion('1')
      .addCookieAuth(sessionCookieName(config.APP_BASE_URL))
      .build(),
  );
  SwaggerModule.setup('api/docs', app, doc, { jsonDocumentUrl: 'api/docs/openapi.json', customSiteTitle: 'Mentor Zero API' });
}
