import { runService } from '@mz/platform';
import { inboundService } from './inbound.definition';

runService(inboundService());
