import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AdminModule } from './admin/admin.module';
import { AuthModule } from './auth/auth.module';
import { CommonModule } from './common/common.module';
import { DomainErrorsFilter } from './common/domain-errors.filter';
import { ConsoleModule } from './console/console.module';
import { DocsModule } from './docs/docs.module';
import { MtaStsController } from './mta-sts/mta-sts.controller';
import { SubscriberModule } from './subscriber/subscriber.module';
import { TlsRptModule } from './tlsrpt/tlsrpt.module';
import { UnsubscribeModule } from './unsubscribe/unsubscribe.module';

/**
 * The api service (docs/architecture.md §1): auth, subscriber settings, one-click unsubscribe, the admin API.
 * Express-level pieces (helmet, body limits, Origin check, Bull Board, OpenAPI) are in
 * http-setup.ts (start-up wiring, beside main.ts), run by the service definition before Nest's routes are registered.
 */
@Module({})
export class ApiModule {
  static register(platform: DynamicModule): DynamicModule {
    return {
      module: ApiModule,
      imports: [platform, CommonModule, AuthModule, SubscriberModule, UnsubscribeModule, AdminModule, ConsoleModule, DocsModule, TlsRptModule],
      controllers: [MtaStsController],
      providers: [{ provide: APP_FILTER, useClass: DomainErrorsFilter }],
    };
  }
}
