import type { OpsCommand } from '../command';
import { dnsRecordsCommand } from './dns-records.command';

/** Every `npm run mz -- <command>`, by name. */
export const COMMANDS: readonly OpsCommand[] = [dnsRecordsCommand];
