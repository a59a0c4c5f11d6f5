import { runService } from '@mz/platform';
import { SchedulerModule } from './scheduler.module';

runService({ service: 'scheduler', defaultPort: 3002, rootModule: (platform) => SchedulerModule.register(platform) });
