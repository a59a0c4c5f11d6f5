import { DynamicModule, Module } from '@nestjs/common';
import { MailerMetrics } from './mailer.metrics';
import { SendLetterProcessor } from './send-letter.processor';
import { SendLetterService } from './send-letter.service';
import { SendLoginLinkProcessor } from './send-login-link.processor';
import { SendLoginLinkService } from './send-login-link.service';
import { SmtpTransport } from './smtp.transport';

/** The mailer: `letters.send` (daily letters, the ledger) and `mail.transactional` (login links). */
@Module({})
export class MailerModule {
  static register(platform: DynamicModule): DynamicModule {
    return {
      module: MailerModule,
      imports: [platform],
      providers: [SmtpTransport, MailerMetrics, SendLetterService, SendLetterProcessor, SendLoginLinkService, SendLoginLinkProcessor],
    };
  }
}
