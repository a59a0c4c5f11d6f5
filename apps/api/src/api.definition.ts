import type { ServiceDefinition } from '@mz/platform';
import { ApiModule } from './api.module';
import { setupApiHttp } from './http-setup';

/** The api service: its module and HTTP setup (main.ts runs it; tests start it in-process). */
export const API_SERVICE: ServiceDefinition = {
  service: 'api',
  defaultPort: 3000,
  rootModule: (platform) => ApiModule.register(platform),
  setup: setupApiHttp,
};
