import { runService } from '@mz/platform';
import { MailerModule } from './mailer.module';

runService({ service: 'mailer', defaultPort: 3004, rootModule: (platform) => MailerModule.register(platform) });
