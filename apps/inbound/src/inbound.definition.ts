import type { ServiceDefinition } from '@mz/platform';
import type { InboundOptions } from './inbound-options';
import { InboundModule } from './inbound.module';

/** The inbound service: main.ts runs it; integration tests start it in-process (with options). */
export function inboundService(options: Partial<InboundOptions> = {}): ServiceDefinition {
  return { service: 'inbound', defaultPort: 3001, rootModule: (platform) => InboundModule.register(platform, options) };
}
