import { runService } from '@mz/platform';
import { ApiModule } from './api.module';

runService({ service: 'api', defaultPort: 3000, rootModule: (platform) => ApiModule.register(platform) });
