import { runService } from '@mz/platform';
import { InboundModule } from './inbound.module';

runService({ service: 'inbound', defaultPort: 3001, rootModule: (platform) => InboundModule.register(platform) });
