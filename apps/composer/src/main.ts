import { runService } from '@mz/platform';
import { ComposerModule } from './composer.module';

runService({ service: 'composer', defaultPort: 3003, rootModule: (platform) => ComposerModule.register(platform) });
