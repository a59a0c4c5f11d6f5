import { type MiddlewareConsumer, Module, type NestModule, RequestMethod } from '@nestjs/common';
import { CommonModule } from '../common/common.module';
import { TLSRPT_PATH, TlsRptController } from './tlsrpt.controller';
import { TlsRptRawBodyMiddleware } from './tlsrpt-raw-body.middleware';
import { TlsRptService } from './tlsrpt.service';

/** TLS reporting (RFC 8460) for REPLY_DOMAIN: the https `rua` endpoint, its table and metrics. */
@Module({
  imports: [CommonModule],
  controllers: [TlsRptController],
  providers: [TlsRptService, TlsRptRawBodyMiddleware],
})
export class TlsRptModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(TlsRptRawBodyMiddleware).forRoutes({ path: TLSRPT_PATH, method: RequestMethod.POST });
  }
}
